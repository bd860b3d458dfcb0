import { z } from 'zod';

/**
 * The suite format: the one source of truth. It validates suite files, gives the TypeScript types
 * (`Suite`, `Check`, ...) and is exported as JSON Schema (`xfed schema`) for editors. Objects are
 * strict: an unknown key is an error, never ignored.
 */

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** `500ms`, `2s`, `1.5s`, `1m`, or a number of milliseconds. */
export const Duration = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration such as 500ms, 2s or 1m')])
  .describe('A duration: 500ms, 2s, 1m, or milliseconds as a number');

export function durationMs(d: z.infer<typeof Duration>): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d)!;
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm']);
}

const Domain = z.string().regex(DOMAIN, 'a DNS domain name such as partner.test');
const UserName = z.string().min(1).describe('A localpart: the user name without @domain');
const Condition = z.string().regex(/^[a-z-]+$/, 'a stanza error condition such as forbidden').or(z.literal('*'));

export const AVAILABILITIES = ['Available', 'Busy', 'DoNotDisturb', 'BeRightBack', 'Away', 'Offline'] as const;
export const BEHAVIOURS = ['echo', 'accept', 'silent', 'reject', 'offline'] as const;
const Negotiation = z.enum(['Required', 'Optional', 'NotSupported']);
const Show = z.enum(['chat', 'away', 'xa', 'dnd']);

const PartnerS2s = z
  .strictObject({
    tls: z.enum(['required', 'optional', 'off']).optional(),
    auth: z.enum(['certificate', 'dialback', 'either']).optional(),
    certificates: z.enum(['ca', 'self-signed', 'none']).optional(),
    secureAuth: z.boolean().optional(),
  })
  .describe("The partner Prosody's S2S security");

const Partner = z.strictObject({
  domains: z.array(Domain).min(1).describe('XMPP domains of the partner; the first is its primary domain'),
  users: z.array(UserName).min(1).describe('Partner accounts, created on the primary domain'),
  s2s: PartnerS2s.optional(),
});

const PartnerProfile = z
  .strictObject({
    partnerType: z.enum(['Federated', 'PublicVerified', 'PublicUnverified']).optional(),
    tlsNegotiation: Negotiation.optional(),
    saslNegotiation: Negotiation.optional(),
    supportDialbackNegotiation: z.boolean().optional(),
    enableKeepAlive: z.boolean().optional(),
    description: z.string().optional(),
  })
  .describe('New-CsXmppAllowedPartner parameters for the partner (its domains come from partner.domains)');

const SfbUser = z.strictObject({
  name: UserName,
  pool: z.enum(['legacy', 'sfb2019']).describe('Home pool: legacy has the XMPP gateway, sfb2019 has none'),
  behaviour: z.enum(BEHAVIOURS).optional().describe('echo (default), accept, silent, reject or offline'),
  availability: z.enum(AVAILABILITIES).optional(),
  note: z.string().optional(),
  xmppAccess: z.boolean().optional().describe('EnableXmppAccess of the external access policy (default true)'),
});

const SimTarget = z.strictObject({
  domain: Domain.describe('The SfB SIP domain'),
  partner: PartnerProfile.optional(),
  users: z.array(SfbUser).min(1),
  edgeCertificate: z.enum(['valid', 'missing-bare-domain-san', 'expired', 'untrusted-ca']).optional(),
  transport: z.enum(['tcp', 'udp']).optional().describe('SIP transport between gateway and pools (default tcp)'),
  subscriptionExpires: z.number().int().positive().optional(),
  showMapping: z
    .strictObject(Object.fromEntries(AVAILABILITIES.map((a) => [a, z.strictObject({ basic: z.enum(['open', 'closed']), show: Show.optional() })])) as Record<
      (typeof AVAILABILITIES)[number],
      z.ZodObject<{ basic: z.ZodEnum<{ open: 'open'; closed: 'closed' }>; show: z.ZodOptional<typeof Show> }>
    >)
    .partial()
    .optional(),
});

const Address = z
  .strictObject({
    host: z.string().regex(/^[A-Za-z0-9.:_-]+$/, 'a host name or an IP address').describe('A host name or an IP address'),
    port: z.number().int().min(1).max(65535).optional(),
  })
  .describe('A host and, optionally, a port');

export const ROLES = ['echo', 'accept', 'none'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const RemoteUser = z.strictObject({
  name: UserName,
  role: z
    .enum(ROLES)
    .describe('echo: answers IMs with their text and accepts subscriptions; accept: accepts subscriptions only; none: does neither'),
  login: z
    .strictObject({
      passwordEnv: z.string().regex(ENV_NAME, 'an environment variable name such as XFED_ERIN_PASSWORD').describe('The environment variable holding the password'),
      c2s: Address.optional().describe("The XMPP client endpoint of the user's server (default: the SfB domain, port 5222)"),
    })
    .optional()
    .describe('Set when xfed drives this user itself over XMPP (a stand-in server); the password is never written to a report or log'),
});

const GatewayTarget = z.strictObject({
  domain: Domain.describe('The SfB SIP domain, served by the legacy Edge\'s XMPP proxy'),
  edge: Address.optional().describe('One Edge to test directly, bypassing the SRV record (port default 5269)'),
  resolver: Address.optional().describe("The DNS server that knows the SfB domain's records (port default 53; default: the system's)"),
  ca: z.string().min(1).optional().describe("PEM file of the CAs that issued the Edge's certificate, relative to the suite file"),
  partner: PartnerProfile.optional().describe('The New-CsXmppAllowedPartner profile configured on the Edge for the partner'),
  listen: Address.describe("Where the partner's S2S port is published for the Edge to reach (port default 5269)"),
  certificate: z
    .strictObject({ cert: z.string().min(1), key: z.string().min(1) })
    .optional()
    .describe("The partner domain's certificate and key the lab issued (PEM files, relative to the suite file); default: issued by xfed's per-run CA"),
  users: z.array(RemoteUser).min(1).describe('The SfB test users and what they do'),
});

const Target = z
  .strictObject({ sim: SimTarget.optional(), gateway: GatewayTarget.optional() })
  .describe('What xfed federates with: sim (the simulated legacy side) or gateway (a real legacy Edge); exactly one');

// ---------------------------------------------------------------- steps (migration actions)

export const Step = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('move-user'), user: UserName, pool: z.enum(['legacy', 'sfb2019']) }),
  z.strictObject({ action: z.literal('set-policy'), user: UserName, xmppAccess: z.boolean() }),
  z.strictObject({ action: z.literal('replace-edge'), edge: z.enum(['sfb2019', 'legacy']) }),
  z.strictObject({ action: z.literal('srv-record'), target: z.enum(['legacy-edge', 'sfb2019-edge', 'none']) }),
  z.strictObject({ action: z.literal('renew-certificate'), certificate: z.enum(['valid', 'missing-bare-domain-san', 'expired', 'untrusted-ca']) }),
  z.strictObject({ action: z.literal('remove-partner'), domain: Domain.optional() }),
  z.strictObject({ action: z.literal('set-partner'), profile: PartnerProfile }),
  z.strictObject({ action: z.literal('gateway'), state: z.enum(['stopped', 'started', 'restarted']) }),
  z.strictObject({ action: z.literal('network'), state: z.enum(['cut', 'restored', 'slow']), delay: Duration.optional() }),
  z.strictObject({ action: z.literal('set-availability'), user: UserName, availability: z.enum(AVAILABILITIES), note: z.string().optional() }),
  z
    .strictObject({ action: z.literal('manual'), instruction: z.string().min(1), timeout: Duration.optional().describe('How long to wait for the operator (default 30m)') })
    .describe('Something an operator does by hand (Move-CsUser on the lab): xfed waits for Enter in a terminal'),
  z
    .strictObject({ action: z.literal('run'), command: z.string().min(1), timeout: Duration.optional().describe('Default 60s') })
    .describe('A hook command (sh -c), e.g. a remote PowerShell call; its output is recorded, a non-zero exit fails the step'),
]);

// ---------------------------------------------------------------- checks

/**
 * What a check expects: `pass`, or one failure named like the outcomes checks report:
 * `{ error: forbidden }`, `{ s2s: refused }`, `{ subscription: pending }`, `{ sip: '403' }`...
 * `'*'` accepts any value of that kind.
 */
export const Expectation = z
  .union([
    z.literal('pass'),
    z.strictObject({ error: Condition }),
    z.strictObject({ s2s: z.enum(['refused', 'mismatch', '*']) }),
    z.strictObject({ disco: z.enum(['missing-feature', '*']) }),
    z.strictObject({ probe: z.enum(['mismatch', '*']) }),
    z.strictObject({ certificate: z.enum(['expired', 'name-mismatch', 'untrusted', '*']) }),
    z.strictObject({ subscription: z.enum(['pending', 'unsubscribed', '*']) }),
    z.strictObject({ sip: z.string().regex(/^([3-6]\d\d|\*)$/, 'a SIP status such as 403') }),
    z.strictObject({ dns: z.enum(['nxdomain', 'mismatch', '*']) }),
    z.strictObject({ delivery: z.enum(['delivered', '*']) }),
    z.strictObject({ presence: z.enum(['mismatch', 'leaked', 'none', '*']) }),
    z.strictObject({ latency: z.enum(['over-budget']) }),
  ])
  .describe('pass, or the failure this check must observe');

const common = {
  id: z.string().regex(NAME, 'lowercase letters, digits, ".", "_" and "-"').describe('Unique in the suite'),
  title: z.string().optional().describe('What the check proves, one line'),
  expect: Expectation.optional().describe('Default: pass'),
  timeout: Duration.optional().describe('How long the check may wait (default 5s)'),
};

export const Check = z.discriminatedUnion('kind', [
  z.strictObject({ ...common, kind: z.literal('s2s'), tls: z.enum(['TLSv1.2', 'TLSv1.3']).optional(), auth: z.enum(['sasl-external', 'dialback']).optional() }),
  z.strictObject({
    ...common,
    kind: z.literal('s2s-probe'),
    tls: z.enum(['TLSv1.2', 'TLSv1.3']).optional().describe('The TLS version the Edge must negotiate'),
  }).describe("A raw S2S stream to the SfB domain: STARTTLS, TLS version, certificate, SASL EXTERNAL and dialback offered, compared with the partner profile"),
  z.strictObject({ ...common, kind: z.literal('dns'), domain: Domain.optional(), target: z.string().optional().describe('Expected SRV target host') }),
  z.strictObject({ ...common, kind: z.literal('ping'), from: UserName, to: z.string().optional().describe('An SfB user; default the SfB domain') }),
  z.strictObject({ ...common, kind: z.literal('disco'), from: UserName, to: z.string().optional(), feature: z.string().optional() }),
  z.strictObject({
    ...common,
    kind: z.literal('im'),
    from: UserName,
    to: UserName,
    body: z.string().optional(),
    size: z.number().int().positive().max(100_000).optional().describe('Send a generated body of this many bytes (long-text checks)'),
    within: Duration.optional().describe('Latency budget of the round trip'),
  }),
  z.strictObject({ ...common, kind: z.literal('im-from-sfb'), from: UserName, to: UserName, body: z.string().optional(), within: Duration.optional() }),
  z.strictObject({ ...common, kind: z.literal('subscribe'), from: UserName, to: UserName }),
  z.strictObject({
    ...common,
    kind: z.literal('presence'),
    of: UserName.describe('The SfB user'),
    by: UserName.describe('The partner user who watches'),
    set: z.enum(AVAILABILITIES).optional().describe('Availability the SfB user sets first'),
    show: z.enum(['chat', 'away', 'xa', 'dnd', 'none', 'unavailable']).optional().describe('What the watcher must see (default: the mapping of `set`)'),
  }),
  z.strictObject({ ...common, kind: z.literal('no-presence-leak'), of: UserName, by: UserName, set: z.enum(AVAILABILITIES).optional() }),
  z.strictObject({ ...common, kind: z.literal('no-delivery'), from: UserName, to: UserName, body: z.string().optional() }),
  z.strictObject({
    ...common,
    kind: z.literal('unsupported'),
    from: UserName,
    to: UserName,
    feature: z.enum(['groupchat', 'muc-invitation', 'file-transfer', 'jingle', 'xhtml-only']),
  }),
]);

export const CHECK_KINDS = ['s2s', 's2s-probe', 'dns', 'ping', 'disco', 'im', 'im-from-sfb', 'subscribe', 'presence', 'no-presence-leak', 'no-delivery', 'unsupported'] as const;
export const STEP_ACTIONS = ['move-user', 'set-policy', 'replace-edge', 'srv-record', 'renew-certificate', 'remove-partner', 'set-partner', 'gateway', 'network', 'set-availability', 'manual', 'run'] as const;

export const Phase = z.strictObject({
  name: z.string().regex(NAME, 'lowercase letters, digits, ".", "_" and "-"'),
  description: z.string().optional(),
  steps: z.array(Step).optional(),
  checks: z.array(Check).optional(),
});

export const Suite = z.strictObject({
  suite: z.string().regex(NAME, 'lowercase letters, digits, ".", "_" and "-"').describe('The suite name (used in report paths)'),
  description: z.string().optional(),
  partner: Partner,
  target: Target,
  phases: z.array(Phase).min(1),
});

export type Suite = z.infer<typeof Suite>;
export type Phase = z.infer<typeof Phase>;
export type Step = z.infer<typeof Step>;
export type Check = z.infer<typeof Check>;
export type CheckKind = Check['kind'];
export type Expectation = z.infer<typeof Expectation>;
export type SimTargetSpec = z.infer<typeof SimTarget>;
export type GatewayTargetSpec = z.infer<typeof GatewayTarget>;
export type RemoteUserSpec = z.infer<typeof RemoteUser>;
export type AddressSpec = z.infer<typeof Address>;

/** The JSON Schema of suite files (`xfed schema`), for editors' completion and underlining. */
export function suiteJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(Suite, { target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>),
    $id: 'https://xfed.invalid/schema/suite.json',
    title: 'xfed suite',
  };
}
