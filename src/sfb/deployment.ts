/**
 * The parts of a legacy SfB deployment that a migration to Skype for Business Server 2019 changes
 * (docs/sfb-xmpp-federation.md sections 1, 2 and 6): where users are homed, which Edge serves
 * federation, where the XMPP SRV record points, the Edge's certificate, and the external access
 * policy. Both targets and the suite format speak of them in these words.
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

/** The states of the Edge's public certificate that a renewal can produce. */
export const EDGE_CERTIFICATES = ['valid', 'missing-bare-domain-san', 'expired', 'untrusted-ca'] as const;
export type EdgeCertificate = (typeof EDGE_CERTIFICATES)[number];

/**
 * `EnableXmppAccess` of a user's external access policy when the suite says nothing. xfed's choice
 * (the documented default of New-CsExternalAccessPolicy is False): suites written before the
 * policy was modelled grant it implicitly.
 */
export const DEFAULT_XMPP_ACCESS = true;
