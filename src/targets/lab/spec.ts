import { z } from 'zod';
import { Address, DomainName, UserName } from '../../infra/format.js';
import { PartnerProfileSpec } from '../../sfb/partner-profile.js';

/** What a lab's SfB test user does for xfed: echo IMs and accept subscriptions, accept only, or neither. */
export const ROLES = ['echo', 'accept', 'none'] as const;
export type LabUserRole = (typeof ROLES)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const LabUserSpec = z.strictObject({
  name: UserName,
  role: z.enum(ROLES).describe('echo: answers IMs with their text and accepts subscriptions; accept: accepts subscriptions only; none: does neither'),
  login: z
    .strictObject({
      // A custom issue, not a regex: the validator would quote the value, which may be the password itself.
      passwordEnv: z
        .string()
        .refine((v) => ENV_NAME.test(v), {
          message:
            'expected an environment variable name such as XFED_ERIN_PASSWORD (if this is the password itself, move it into a variable and name the variable here)',
        })
        .describe('The environment variable holding the password'),
      c2s: Address.optional().describe("The XMPP client endpoint of the user's server (default: the SfB domain, port 5222)"),
    })
    .optional()
    .describe('Set when xfed drives this user itself over XMPP (a stand-in server); the password is never written to a report or log'),
});
export type LabUserSpec = z.infer<typeof LabUserSpec>;

/** The `target.gateway` section of a suite: a lab's real legacy Edge. */
export const LabSpec = z.strictObject({
  domain: DomainName.describe("The SfB SIP domain, served by the legacy Edge's XMPP proxy"),
  edge: Address.optional().describe('One Edge to test directly, bypassing the SRV record (port default 5269)'),
  resolver: Address.optional().describe("The DNS server that knows the SfB domain's records (port default 53; default: the system's)"),
  ca: z.string().min(1).optional().describe("PEM file of the CAs that issued the Edge's certificate, relative to the suite file"),
  partner: PartnerProfileSpec.optional().describe('The New-CsXmppAllowedPartner profile configured on the Edge for the partner'),
  listen: Address.describe("Where the partner's S2S port is published for the Edge to reach (port default 5269)"),
  certificate: z
    .strictObject({ cert: z.string().min(1), key: z.string().min(1) })
    .optional()
    .describe("The partner domain's certificate and key the lab issued (PEM files, relative to the suite file); default: issued by xfed's per-run CA"),
  users: z.array(LabUserSpec).min(1).describe('The SfB test users and what they do'),
});
export type LabSpec = z.infer<typeof LabSpec>;
