import { z } from 'zod';
import { DomainName, Duration, UserName, durationMs } from '../infra/format.js';
import { EDGE_CERTIFICATES, EDGES, POOLS, SRV_TARGETS } from '../sfb/deployment.js';
import { PartnerProfileSpec } from '../sfb/partner-profile.js';
import { FEDERATION_STEP_KINDS } from './federation.js';
import { EDGE_INTERNAL_STEP_KINDS } from './edge-internal.js';
import { EDGE_POOL_STEP_KINDS } from './edge-pools.js';
import { defineStep, deploymentOf } from './step.js';

/*
 * The migration steps: each is what an SfB administrator does on cutover night, applied live to
 * the simulated side without restarting the partner, with the outcome docs/sfb-xmpp-federation.md
 * section 6 predicts. Against a real Edge people do them (manual and run steps).
 */

const SLOW_DEFAULT_MS = 200;

/** Move-CsUser: the 2019 pool has no XMPP gateway, so a moved user's federation breaks. */
const moveUserStep = defineStep({
  action: 'move-user',
  fields: { user: UserName, pool: z.enum(POOLS) },
  appliesTo: 'sim',
  sfbUserField: 'user',
  describe: (s) => `move ${s.user} to the ${s.pool} pool`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).moveUser(s.user, s.pool),
});

/** Grant-CsExternalAccessPolicy with or without EnableXmppAccess (whose default is False). */
const setPolicyStep = defineStep({
  action: 'set-policy',
  fields: { user: UserName, xmppAccess: z.boolean() },
  appliesTo: 'sim',
  sfbUserField: 'user',
  describe: (s) => `${s.xmppAccess ? 'grant' : 'revoke'} EnableXmppAccess for ${s.user}`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).setXmppAccess(s.user, s.xmppAccess),
});

/** A 2019 Edge (no XMPP proxy: S2S refused) in place of the legacy one, or the legacy one back. */
const replaceEdgeStep = defineStep({
  action: 'replace-edge',
  fields: { edge: z.enum(EDGES) },
  appliesTo: 'sim',
  describe: (s) => (s.edge === 'sfb2019' ? 'replace the legacy Edge by a 2019 Edge (no XMPP proxy)' : 'bring the legacy Edge back'),
  apply: (s, ctx) => deploymentOf(ctx, s.action).replaceEdge(s.edge),
});

/** `_xmpp-server._tcp.<sfb domain>` pointed at the legacy Edge, at the 2019 Edge, or removed. */
const srvRecordStep = defineStep({
  action: 'srv-record',
  fields: { target: z.enum(SRV_TARGETS) },
  appliesTo: 'sim',
  describe: (s) => (s.target === 'none' ? 'remove the _xmpp-server._tcp SRV record' : `point the _xmpp-server._tcp SRV record at the ${s.target}`),
  apply: (s, ctx) => deploymentOf(ctx, s.action).pointSrvRecord(s.target),
});

/** The legacy Edge's certificate renewed: good, without the bare-domain SAN, expired, or from an untrusted CA. */
const renewCertificateStep = defineStep({
  action: 'renew-certificate',
  fields: {
    certificate: z.enum(EDGE_CERTIFICATES),
    domain: DomainName.optional().describe('With missing-bare-domain-san: the one SIP domain whose SAN is missing (default every domain)'),
  },
  appliesTo: 'sim',
  names: { domain: 'sip-domain' },
  conflicts: [
    {
      at: 'domain',
      why: (s) =>
        s.domain !== undefined && s.certificate !== 'missing-bare-domain-san'
          ? 'domain names the SIP domain a missing-bare-domain-san certificate lacks; other certificates cover every domain'
          : undefined,
    },
  ],
  describe: (s) => `renew the Edge certificate (${s.certificate}${s.domain ? ` for ${s.domain}` : ''})`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).renewEdgeCertificate(s.certificate, s.domain),
});

/** Remove-CsXmppAllowedPartner. */
const removePartnerStep = defineStep({
  action: 'remove-partner',
  fields: { domain: DomainName.optional() },
  appliesTo: 'sim',
  names: { domain: 'partner-domain' },
  describe: (s) => `remove ${s.domain ?? 'the partner'} from the allowed XMPP partners`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).removePartner(s.domain),
});

/** New-CsXmppAllowedPartner / Set-CsXmppAllowedPartner: add the partner or change its profile. */
const setPartnerStep = defineStep({
  action: 'set-partner',
  fields: { profile: PartnerProfileSpec },
  appliesTo: 'sim',
  describe: (s) =>
    `set the allowed partner profile (${Object.entries(s.profile)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')})`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).setPartner(s.profile),
});

/** The XMPP gateway service on the legacy pool stopped, started or restarted. */
const gatewayStep = defineStep({
  action: 'gateway',
  fields: { state: z.enum(['stopped', 'started', 'restarted']) },
  appliesTo: 'sim',
  describe: (s) => `${s.state === 'stopped' ? 'stop' : s.state === 'started' ? 'start' : 'restart'} the XMPP gateway`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).setGateway(s.state),
});

/** The network between partner and Edge: cut (connections reset and refused), restored, or slowed. */
const networkStep = defineStep({
  action: 'network',
  fields: { state: z.enum(['cut', 'restored', 'slow']), delay: Duration.optional() },
  appliesTo: 'sim',
  describe: (s) =>
    s.state === 'slow'
      ? `slow the partner-Edge link by ${s.delay !== undefined ? durationMs(s.delay) : SLOW_DEFAULT_MS} ms per chunk`
      : `${s.state === 'cut' ? 'cut' : 'restore'} the partner-Edge link`,
  apply: (s, ctx) =>
    deploymentOf(ctx, s.action).setNetwork(s.state, s.state === 'slow' ? (s.delay !== undefined ? durationMs(s.delay) : SLOW_DEFAULT_MS) : undefined),
});

/** The steps that change the simulated side, in the order the format lists them. */
export const MIGRATION_STEP_KINDS = [
  moveUserStep,
  setPolicyStep,
  replaceEdgeStep,
  srvRecordStep,
  renewCertificateStep,
  removePartnerStep,
  setPartnerStep,
  gatewayStep,
  networkStep,
  ...FEDERATION_STEP_KINDS,
  ...EDGE_INTERNAL_STEP_KINDS,
  ...EDGE_POOL_STEP_KINDS,
] as const;
