import { z } from 'zod';
import { DomainName, UserName } from '../infra/format.js';
import { CERTIFICATE_KINDS, S2S_AUTHS, TLS_MODES, TLS_VERSIONS } from '../prosody/types.js';

const TlsVersion = z.enum(TLS_VERSIONS);

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
      tlsVersions: z
        .strictObject({
          min: TlsVersion.optional().describe('The lowest TLS version it accepts (default TLSv1.2)'),
          max: TlsVersion.optional().describe('The highest TLS version it offers (default TLSv1.3)'),
        })
        .optional()
        .describe(
          "The TLS versions the partner's S2S streams may negotiate, both ends included: { max: TLSv1.2 } for a server that stops at TLS 1.2, { min: TLSv1.3 } for one that insists on TLS 1.3 (which a legacy Edge, at most TLS 1.2, fails)",
        ),
    })
    .optional()
    .describe("The partner Prosody's S2S security"),
});
export type PartnerSpec = z.infer<typeof PartnerSpec>;
