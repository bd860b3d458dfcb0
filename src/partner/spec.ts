import { z } from 'zod';
import { DomainName, UserName } from '../infra/format.js';
import { CERTIFICATE_KINDS, S2S_AUTHS, TLS_MODES } from '../prosody/types.js';

/** The `partner` section of a suite: the partner Prosody xfed runs, its domains, accounts and S2S security. */
export const PartnerSpec = z.strictObject({
  domains: z.array(DomainName).min(1).describe('XMPP domains of the partner; the first is its primary domain'),
  users: z.array(UserName).min(1).describe('Partner accounts, created on the primary domain'),
  s2s: z
    .strictObject({
      tls: z.enum(TLS_MODES).optional(),
      auth: z.enum(S2S_AUTHS).optional(),
      certificates: z.enum(CERTIFICATE_KINDS).optional(),
      secureAuth: z.boolean().optional(),
    })
    .optional()
    .describe("The partner Prosody's S2S security"),
});
export type PartnerSpec = z.infer<typeof PartnerSpec>;
