import { z } from 'zod';
import { DomainName, UserName } from '../../infra/format.js';
import { SFB_AVAILABILITIES, SfbAvailability } from '../../sfb/availability.js';
import { DEFAULT_XMPP_ACCESS, EDGE_CERTIFICATES, POOLS } from '../../sfb/deployment.js';
import { PartnerProfileSpec } from '../../sfb/partner-profile.js';

/** How a simulated SfB user answers partners: echo (default) IMs and accepts subscriptions, ... */
export const BEHAVIOURS = ['echo', 'accept', 'silent', 'reject', 'offline'] as const;

const Show = z.enum(['chat', 'away', 'xa', 'dnd']);
const ShowOf = z.strictObject({ basic: z.enum(['open', 'closed']), show: Show.optional() });

/** The `target.sim` section of a suite: the simulated legacy SfB side. */
export const SimSpec = z.strictObject({
  domain: DomainName.describe('The SfB SIP domain'),
  partner: PartnerProfileSpec.optional(),
  users: z
    .array(
      z.strictObject({
        name: UserName,
        pool: z.enum(POOLS).describe('Home pool: legacy has the XMPP gateway, sfb2019 has none'),
        behaviour: z.enum(BEHAVIOURS).optional().describe('echo (default), accept, silent, reject or offline'),
        availability: SfbAvailability.optional(),
        note: z.string().optional(),
        xmppAccess: z.boolean().optional().describe(`EnableXmppAccess of the external access policy (default ${DEFAULT_XMPP_ACCESS})`),
      }),
    )
    .min(1),
  edgeCertificate: z.enum(EDGE_CERTIFICATES).optional(),
  transport: z.enum(['tcp', 'udp']).optional().describe('SIP transport between gateway and pools (default tcp)'),
  subscriptionExpires: z.number().int().positive().optional(),
  showMapping: z
    .strictObject(Object.fromEntries(SFB_AVAILABILITIES.map((a) => [a, ShowOf])) as Record<SfbAvailability, typeof ShowOf>)
    .partial()
    .optional(),
});
export type SimSpec = z.infer<typeof SimSpec>;
