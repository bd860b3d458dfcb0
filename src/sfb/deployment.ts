import { z } from 'zod';

/**
 * The parts of a legacy SfB deployment that a migration to Skype for Business Server 2019 changes
 * (docs/sfb-xmpp-federation.md sections 1, 2 and 6): where users are homed, which Edge serves
 * federation, the site's federation routes, the Access Edge, where the central management store
 * lives, where the XMPP SRV record points, the Edge's certificate, and the external access policy.
 * Both targets and the suite format speak of them in these words.
 */

/** The pools: the legacy (2015/2013) one has the XMPP gateway, the 2019 one has none. */
export const POOLS = ['legacy', 'sfb2019'] as const;
export type PoolName = (typeof POOLS)[number];

/** The Edge that serves the SfB domain's federation: the legacy one has the XMPP proxy, 2019 has none. */
export const EDGES = ['sfb2019', 'legacy'] as const;
export type EdgeName = (typeof EDGES)[number];

/** Where `_xmpp-server._tcp.<sfb domain>` points: the legacy Edge, the 2019 Edge, or nowhere. */
export const SRV_TARGETS = ['legacy-edge', 'sfb2019-edge', 'none'] as const;
export type SrvTarget = (typeof SRV_TARGETS)[number];

/**
 * The site's two federation routes in Topology Builder ("Enable SIP federation", "Enable XMPP
 * federation"), each through an Edge pool or none (`Set-CsSite -FederationRoute` and
 * `-XmppFederationRoute`).
 */
export const FEDERATION_ROUTES = ['sip', 'xmpp'] as const;
export type FederationRoute = (typeof FEDERATION_ROUTES)[number];
export const ROUTE_TARGETS = ['legacy-edge', 'sfb2019-edge', 'none'] as const;
export type RouteTarget = (typeof ROUTE_TARGETS)[number];

/** A Windows service of the legacy Edge (the Access Edge, or the XMPP Translating Gateway Proxy). */
export const SERVICE_STATES = ['started', 'stopped'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/** A legacy Edge pool's name: a DNS label, as its Access Edge is `<name>.<SIP domain>`. */
export const EdgePoolName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'a DNS label such as edge-a')
  .describe('A legacy Edge pool (target.sim.edgePools; default legacy-edge)');

/** The one Edge pool of a deployment that declares none, with the SRV priority xfed always published. */
export const DEFAULT_EDGE_POOL = { name: 'legacy-edge', priority: 0 } as const;

/** The states of the Edge's public certificate that a renewal can produce. */
export const EDGE_CERTIFICATES = ['valid', 'missing-bare-domain-san', 'expired', 'untrusted-ca'] as const;
export type EdgeCertificate = (typeof EDGE_CERTIFICATES)[number];

/**
 * The internal hop from the Front End's XMPP gateway to the Edge's internal interface (XMPP over
 * MTLS, TCP 23456): the Edge's internal certificate, and the internal firewall's rule for the port.
 */
export const INTERNAL_HOP_CERTIFICATES = ['valid', 'expired', 'untrusted'] as const;
export type InternalHopCertificate = (typeof INTERNAL_HOP_CERTIFICATES)[number];
export const INTERNAL_HOP_PORTS = ['open', 'blocked'] as const;
export type InternalHopPort = (typeof INTERNAL_HOP_PORTS)[number];

/**
 * `EnableXmppAccess` of an external access policy nobody set: False, as Set-CsExternalAccessPolicy
 * documents it. A user has XMPP only where his own policy or the global one grants it.
 */
export const DEFAULT_XMPP_ACCESS = false;

/** The global external access policy (`Set-CsExternalAccessPolicy -Identity Global`), as a suite writes it. */
export const ExternalAccessPolicySpec = z
  .strictObject({
    enableXmppAccess: z.boolean().describe(`EnableXmppAccess (SfB's default ${DEFAULT_XMPP_ACCESS ? '$true' : '$false'})`),
  })
  .describe('The global external access policy: what users without a policy of their own (xmppAccess) get');
export type ExternalAccessPolicySpec = z.infer<typeof ExternalAccessPolicySpec>;

/** A user's `EnableXmppAccess`: his own policy's, else the global policy's, else SfB's default (False). */
export const xmppAccessOf = (user: { xmppAccess?: boolean | undefined }, global: ExternalAccessPolicySpec | undefined): boolean =>
  user.xmppAccess ?? global?.enableXmppAccess ?? DEFAULT_XMPP_ACCESS;
