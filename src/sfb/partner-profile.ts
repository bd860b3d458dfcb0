import { z } from 'zod';
import { XfedError } from '../errors.js';
import { DomainName, isDomainName } from '../infra/format.js';

/**
 * An XMPP partner as `New-CsXmppAllowedPartner` declares it on the legacy SfB/Lync deployment
 * (docs/sfb-xmpp-federation.md section 3), and what that declaration lets the Edge's S2S streams do.
 */
const PARTNER_TYPES = ['Federated', 'PublicVerified', 'PublicUnverified'] as const;
const NEGOTIATIONS = ['Required', 'Optional', 'NotSupported'] as const;
export type PartnerType = (typeof PARTNER_TYPES)[number];
export type Negotiation = (typeof NEGOTIATIONS)[number];

export interface PartnerProfile {
  domain: string;
  additionalDomains?: string[];
  partnerType?: PartnerType;
  tlsNegotiation?: Negotiation;
  saslNegotiation?: Negotiation;
  supportDialbackNegotiation?: boolean;
  enableKeepAlive?: boolean;
  /** The most simultaneous connections with this partner; the cmdlet documents no default. */
  connectionLimit?: number;
  /** "Full qualified domain name of the proxy server used by the XMPP partner"; no default. */
  proxyFqdn?: string;
  description?: string;
}

type Optionals = 'description' | 'connectionLimit' | 'proxyFqdn';
export type ResolvedPartnerProfile = Required<Omit<PartnerProfile, Optionals>> & Pick<PartnerProfile, Optionals>;

const Negotiation = z.enum(NEGOTIATIONS);

/** The profile as a suite writes it (its domains come from the partner's): the cmdlet's parameters, all optional. */
export const PartnerProfileSpec = z
  .strictObject({
    partnerType: z.enum(PARTNER_TYPES).optional(),
    tlsNegotiation: Negotiation.optional(),
    saslNegotiation: Negotiation.optional(),
    supportDialbackNegotiation: z.boolean().optional(),
    enableKeepAlive: z.boolean().optional().describe('Keep-alives on the S2S streams with the partner, every KeepAliveInterval (default $true)'),
    connectionLimit: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("The most simultaneous S2S connections with the partner (no default; the gateway's PartnerConnectionLimit applies too)"),
    proxyFqdn: DomainName.optional().describe('The FQDN of the proxy server the partner uses; printed in the cmdlet, no effect in the simulation'),
    description: z.string().optional(),
  })
  .describe('New-CsXmppAllowedPartner parameters for the partner (its domains come from partner.domains)');
export type PartnerProfileSpec = z.infer<typeof PartnerProfileSpec>;

/** A profile Skype for Business would refuse to save; the message names the parameters. */
export class PartnerProfileError extends XfedError {}

function pick<T extends string>(value: T | undefined, allowed: readonly T[], fallback: T, param: string, identity: string): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new PartnerProfileError(`partner ${identity}: -${param} ${String(value)} is not one of ${allowed.join(', ')}`);
  return value;
}

/** Applies the cmdlet's defaults and refuses what the cmdlet refuses. */
export function resolvePartnerProfile(p: PartnerProfile): ResolvedPartnerProfile {
  const identity = JSON.stringify(p.domain);
  const domains = [p.domain, ...(p.additionalDomains ?? [])];
  for (const d of domains) {
    if (typeof d !== 'string' || !isDomainName(d))
      throw new PartnerProfileError(`partner ${identity}: ${JSON.stringify(d)} is not a valid domain name (-Identity / -AdditionalDomains)`);
  }
  const lower = domains.map((d) => d.toLowerCase());
  const dup = lower.find((d, i) => lower.indexOf(d) !== i);
  if (dup) throw new PartnerProfileError(`partner ${identity}: domain ${dup} is listed twice (-Identity / -AdditionalDomains)`);

  const resolved: ResolvedPartnerProfile = {
    domain: p.domain,
    additionalDomains: [...(p.additionalDomains ?? [])],
    partnerType: pick(p.partnerType, PARTNER_TYPES, 'PublicUnverified', 'PartnerType', identity),
    tlsNegotiation: pick(p.tlsNegotiation, NEGOTIATIONS, 'Required', 'TlsNegotiation', identity),
    saslNegotiation: pick(p.saslNegotiation, NEGOTIATIONS, 'Required', 'SaslNegotiation', identity),
    supportDialbackNegotiation: p.supportDialbackNegotiation ?? true,
    enableKeepAlive: p.enableKeepAlive ?? true,
    ...(p.connectionLimit !== undefined ? { connectionLimit: p.connectionLimit } : {}),
    ...(p.proxyFqdn !== undefined ? { proxyFqdn: p.proxyFqdn } : {}),
    ...(p.description !== undefined ? { description: p.description } : {}),
  };
  if (resolved.connectionLimit !== undefined && !(Number.isInteger(resolved.connectionLimit) && resolved.connectionLimit > 0))
    throw new PartnerProfileError(`partner ${identity}: -ConnectionLimit ${String(resolved.connectionLimit)} is not a positive whole number`);
  if (resolved.proxyFqdn !== undefined && !isDomainName(resolved.proxyFqdn))
    throw new PartnerProfileError(`partner ${identity}: -ProxyFqdn ${JSON.stringify(resolved.proxyFqdn)} is not a fully qualified domain name`);
  // The Control Panel's rule ("Create or edit XMPP partner configuration"): SASL needs TLS, and a
  // profile with SASL Required or Optional but TLS NotSupported is not saved. It wins over the
  // negotiation matrix, which lists those rows as TCP dialback.
  if (resolved.tlsNegotiation === 'NotSupported' && resolved.saslNegotiation !== 'NotSupported') {
    throw new PartnerProfileError(
      `partner ${identity}: Skype for Business refuses to save this profile: -SaslNegotiation ${resolved.saslNegotiation} needs TLS, and -TlsNegotiation is NotSupported (set -TlsNegotiation Required or Optional, or -SaslNegotiation NotSupported)`,
    );
  }
  // The matrix's "Not Valid Configuration" rows ("SASL or Dialback must be enabled"): without
  // dialback the stream must authenticate with SASL EXTERNAL (XEP-0178); past the rule above,
  // SASL is impossible only where it is NotSupported.
  if (!resolved.supportDialbackNegotiation && !saslPossible(resolved)) {
    throw new PartnerProfileError(
      `partner ${identity}: Skype for Business refuses to save this profile: -SaslNegotiation NotSupported rules out SASL, and -SupportDialbackNegotiation $false rules out dialback, so no stream could authenticate`,
    );
  }
  return resolved;
}

function saslPossible(p: ResolvedPartnerProfile): boolean {
  return p.tlsNegotiation !== 'NotSupported' && p.saslNegotiation !== 'NotSupported';
}

// Required/Required means SASL over TLS only: dialback is never used, whatever the switch says.
function dialbackPossible(p: ResolvedPartnerProfile): boolean {
  return p.supportDialbackNegotiation && !(p.tlsNegotiation === 'Required' && p.saslNegotiation === 'Required');
}

export type StreamAuth = 'sasl-over-tls' | 'dialback-over-tls' | 'dialback-over-tcp';

/** The negotiation matrix of docs/sfb-xmpp-federation.md section 3: how a stream with this partner may authenticate. */
export function allowedStreamAuth(p: ResolvedPartnerProfile): StreamAuth[] {
  const out: StreamAuth[] = [];
  if (saslPossible(p)) out.push('sasl-over-tls');
  if (dialbackPossible(p)) {
    if (p.tlsNegotiation !== 'NotSupported') out.push('dialback-over-tls');
    if (p.tlsNegotiation !== 'Required') out.push('dialback-over-tcp');
  }
  return out;
}

/** How the simulated Edge's Prosody enforces a profile, in the terms of src/partner/types.ts. */
export interface EdgeS2sPolicy {
  tls: 'required' | 'optional' | 'off';
  auth: 'certificate' | 'dialback' | 'either';
  secureAuth: boolean;
  offerSaslExternal: boolean;
  offerDialback: boolean;
}

export function edgeS2sPolicy(p: ResolvedPartnerProfile): EdgeS2sPolicy {
  const sasl = saslPossible(p);
  const dialback = dialbackPossible(p);
  const tls = ({ Required: 'required', Optional: 'optional', NotSupported: 'off' } as const)[p.tlsNegotiation];
  return {
    tls,
    auth: sasl && dialback ? 'either' : sasl ? 'certificate' : 'dialback',
    // Only a dialback-free profile may insist on a verified certificate (Prosody's s2s_secure_auth).
    secureAuth: !dialback,
    offerSaslExternal: sasl,
    offerDialback: dialback,
  };
}

/** A PowerShell double-quoted string: backtick escapes the characters it would interpret. */
export const psString = (s: string): string => `"${s.replace(/[`"$]/g, '`$&')}"`;
const psBool = (b: boolean): string => (b ? '$true' : '$false');

/** The cmdlet line an SfB admin would run to create this partner. */
export function describeProfileCommand(p: ResolvedPartnerProfile): string {
  const parts = [
    `New-CsXmppAllowedPartner -Identity ${psString(p.domain)}`,
    `-PartnerType ${p.partnerType}`,
    `-TlsNegotiation ${p.tlsNegotiation}`,
    `-SaslNegotiation ${p.saslNegotiation}`,
    `-SupportDialbackNegotiation ${psBool(p.supportDialbackNegotiation)}`,
    `-EnableKeepAlive ${psBool(p.enableKeepAlive)}`,
  ];
  if (p.additionalDomains.length > 0) parts.push(`-AdditionalDomains @{Add=${p.additionalDomains.map(psString).join(',')}}`);
  if (p.connectionLimit !== undefined) parts.push(`-ConnectionLimit ${p.connectionLimit}`);
  if (p.proxyFqdn !== undefined) parts.push(`-ProxyFqdn ${psString(p.proxyFqdn)}`);
  if (p.description !== undefined) parts.push(`-Description ${psString(p.description)}`);
  return parts.join(' ');
}
