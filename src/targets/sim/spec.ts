import { z } from 'zod';
import { DomainName, UserName } from '../../infra/format.js';
import { SFB_AVAILABILITIES, SfbAvailability } from '../../sfb/availability.js';
import { DEFAULT_XMPP_ACCESS, EDGE_CERTIFICATES, EdgePoolName, ExternalAccessPolicySpec, POOLS } from '../../sfb/deployment.js';
import { PartnerProfileSpec } from '../../sfb/partner-profile.js';
import { XmppGatewaySettingsSpec } from '../../sfb/xmpp-gateway-settings.js';

/** How a simulated SfB user answers partners: echo (default) IMs and accepts subscriptions, ... */
export const BEHAVIOURS = ['echo', 'accept', 'silent', 'reject', 'offline'] as const;

const Show = z.enum(['chat', 'away', 'xa', 'dnd']);
const ShowOf = z.strictObject({ basic: z.enum(['open', 'closed']), show: Show.optional() });

/** The `target.sim` section of a suite: the simulated legacy SfB side. */
export const SimSpec = z.strictObject({
  domain: DomainName.describe('The SfB SIP domain'),
  additionalDomains: z
    .array(DomainName)
    .optional()
    .describe("More SIP domains enabled for XMPP federation: each gets its own _xmpp-server._tcp SRV records and a bare-domain SAN on the Edge's certificate"),
  edgePools: z
    .array(
      z.strictObject({
        name: EdgePoolName.describe('The pool; its Access Edge is <name>.<domain>'),
        priority: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .optional()
          .describe('Priority of its _xmpp-server._tcp SRV record (lowest is tried first); without one the pool has no SRV record'),
      }),
    )
    .min(1)
    .optional()
    .describe(
      'The legacy Edge pools; the first carries the XMPP federation route, and only the pool on that route listens for XMPP (default: one pool, legacy-edge, priority 0)',
    ),
  partner: PartnerProfileSpec.optional(),
  users: z
    .array(
      z.strictObject({
        name: UserName,
        pool: z.enum(POOLS).describe('Home pool: legacy has the XMPP gateway, sfb2019 has none'),
        behaviour: z.enum(BEHAVIOURS).optional().describe('echo (default), accept, silent, reject or offline'),
        availability: SfbAvailability.optional(),
        note: z.string().optional(),
        domain: DomainName.optional().describe("The user's SIP domain: target.sim.domain (default) or one of additionalDomains"),
        xmppAccess: z
          .boolean()
          .optional()
          .describe(`EnableXmppAccess of the user's own external access policy (default: the global policy's, else ${DEFAULT_XMPP_ACCESS})`),
      }),
    )
    .min(1),
  externalAccessPolicy: ExternalAccessPolicySpec.optional(),
  edgeCertificate: z.enum(EDGE_CERTIFICATES).optional(),
  gateway: XmppGatewaySettingsSpec.optional(),
  transport: z.enum(['tcp', 'udp']).optional().describe('SIP transport between gateway and pools (default tcp)'),
  subscriptionExpires: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "SIP subscription lifetime, s: the gateway's SubscriptionRefreshInterval and the pools' default (28800); shorter, it lowers the pools' minimum (1200) too",
    ),
  showMapping: z
    .strictObject(Object.fromEntries(SFB_AVAILABILITIES.map((a) => [a, ShowOf])) as Record<SfbAvailability, typeof ShowOf>)
    .partial()
    .optional(),
});
export type SimSpec = z.infer<typeof SimSpec>;
