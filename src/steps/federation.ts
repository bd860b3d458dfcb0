import { z } from 'zod';
import { XfedError } from '../errors.js';
import { FEDERATION_ROUTES, POOLS, ROUTE_TARGETS, SERVICE_STATES } from '../sfb/deployment.js';
import { defineStep, deploymentOf } from './step.js';

/*
 * The steps of the 2019 migration guide that change federation rather than users: the site's
 * federation routes ("Configure federation routes and media traffic"), the legacy Access Edge and
 * its XMPP proxy, and the central management store ("Move the Central Management Server").
 */

/** Topology Builder's "Enable SIP federation" / "Enable XMPP federation" site routes (Set-CsSite). */
const federationRouteStep = defineStep({
  action: 'federation-route',
  fields: {
    route: z.enum(FEDERATION_ROUTES).describe('sip (Set-CsSite -FederationRoute) or xmpp (-XmppFederationRoute)'),
    to: z.enum(ROUTE_TARGETS).describe('The Edge pool the route goes through, or none (the route disabled)'),
  },
  description: "The site's SIP or XMPP federation route, through the legacy Edge, the 2019 Edge, or none",
  appliesTo: 'sim',
  describe: (s) =>
    s.to === 'none'
      ? `disable the site's ${s.route.toUpperCase()} federation route`
      : `route the site's ${s.route.toUpperCase()} federation through the ${s.to === 'legacy-edge' ? 'legacy' : '2019'} Edge`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).setFederationRoute(s.route, s.to),
});

/** What an access-edge step without either field is told (by the validator, and if it still runs). */
const ACCESS_EDGE_NEEDS = 'the access-edge step needs allowFederatedUsers, service, or both';

/** Set-CsAccessEdgeConfiguration -AllowFederatedUsers, and the legacy Access Edge service (Services applet). */
const accessEdgeStep = defineStep({
  action: 'access-edge',
  fields: {
    allowFederatedUsers: z.boolean().optional().describe('Set-CsAccessEdgeConfiguration -AllowFederatedUsers'),
    service: z.enum(SERVICE_STATES).optional().describe('The legacy "Access Edge" service'),
  },
  description: 'The Access Edge configuration (AllowFederatedUsers) or the legacy Access Edge service; give one or both',
  appliesTo: 'sim',
  conflicts: [{ at: 'action', why: (s) => (s.allowFederatedUsers === undefined && s.service === undefined ? ACCESS_EDGE_NEEDS : undefined) }],
  describe: (s) =>
    [
      s.allowFederatedUsers !== undefined ? `set AllowFederatedUsers ${s.allowFederatedUsers ? '$true' : '$false'}` : undefined,
      s.service !== undefined ? `${s.service === 'stopped' ? 'stop' : 'start'} the legacy Access Edge service` : undefined,
    ]
      .filter((p) => p !== undefined)
      .join(', ') || 'change nothing on the Access Edge',
  apply: (s, ctx) => {
    if (s.allowFederatedUsers === undefined && s.service === undefined) throw new XfedError(ACCESS_EDGE_NEEDS);
    return deploymentOf(ctx, s.action).setAccessEdge({ allowFederatedUsers: s.allowFederatedUsers, service: s.service });
  },
});

/** The legacy Edge's "XMPP Translating Gateway Proxy" service, its own service beside the Access Edge. */
const xmppProxyStep = defineStep({
  action: 'xmpp-proxy',
  fields: { service: z.enum(SERVICE_STATES).describe('The legacy Edge\'s "XMPP Translating Gateway Proxy" service') },
  description: 'The legacy Edge\'s "XMPP Translating Gateway Proxy" service stopped or started',
  appliesTo: 'sim',
  describe: (s) => `${s.service === 'stopped' ? 'stop' : 'start'} the legacy Edge's XMPP Translating Gateway Proxy service`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).setXmppProxy(s.service),
});

/** Move-CsManagementServer: the central management store moved to the 2019 pool, or back. */
const moveCmsStep = defineStep({
  action: 'move-cms',
  fields: { to: z.enum(POOLS).describe('The pool that holds the central management store') },
  description: 'Move-CsManagementServer: the central management store to the 2019 pool, or back to the legacy one',
  appliesTo: 'sim',
  describe: (s) => `move the central management store to the ${s.to} pool`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).moveCms(s.to),
});

/** The federation steps, in the order the format lists them. */
export const FEDERATION_STEP_KINDS = [federationRouteStep, accessEdgeStep, xmppProxyStep, moveCmsStep] as const;
