import { XfedError } from '../../../errors.js';
import { escapeSipParam, escapeSipUser } from '../../../sip/escape.js';

/** An address that cannot cross the gateway (or is not an address at all). */
export class AddressMappingError extends XfedError {}

/** A sips: target: RFC 7247 section 8 forbids translating such a request, since XMPP cannot keep TLS on every hop. */
export class SipsTargetError extends AddressMappingError {}

// XEP-0106 section 3: the ten escapable characters and their escape sequences (lowercase hex).
const XEP0106: ReadonlyArray<readonly [string, string]> = [
  [' ', '\\20'],
  ['"', '\\22'],
  ['&', '\\26'],
  ["'", '\\27'],
  ['/', '\\2f'],
  [':', '\\3a'],
  ['<', '\\3c'],
  ['>', '\\3e'],
  ['@', '\\40'],
  ['\\', '\\5c'],
];
const ESCAPE_OF = new Map(XEP0106);
const CHAR_OF = new Map(XEP0106.map(([c, e]) => [e, c]));
const SEQUENCE = /\\(?:20|22|26|27|2f|3a|3c|3e|40|5c)/g;

/** XEP-0106 section 4.2 (escaping): a backslash is escaped only where it would read as an escape. */
function xep0106Escape(localpart: string): string {
  return localpart.replace(/[ "&'/:<>@]|\\(?=20|22|26|27|2f|3a|3c|3e|40|5c)/g, (c) => ESCAPE_OF.get(c) ?? c);
}

/** XEP-0106 section 4.3 (unescaping), one left-to-right pass so `\5c27` gives `\27`, not `'`. */
function xep0106Unescape(localpart: string): string {
  return localpart.replace(SEQUENCE, (e) => CHAR_OF.get(e) ?? e);
}

function percentDecode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AddressMappingError(`${what} '${text}' has a malformed %-escape (not UTF-8)`);
  }
}

interface JidParts {
  local: string;
  domain: string;
  resource?: string;
}

function splitJid(jid: string): JidParts {
  // The first '/' starts the resource, which may itself hold '@' and '/' (RFC 7622 section 3.1).
  const slash = jid.indexOf('/');
  const bare = slash < 0 ? jid : jid.slice(0, slash);
  const at = bare.indexOf('@');
  const parts: JidParts = { local: at < 0 ? '' : bare.slice(0, at), domain: bare.slice(at + 1) };
  if (slash >= 0) parts.resource = jid.slice(slash + 1);
  if (parts.domain === '' || parts.resource === '') throw new AddressMappingError(`'${jid}' is not a valid JID`);
  return parts;
}

/**
 * `alice@partner.test/phone` -> `sip:alice@partner.test;gr=phone` (RFC 7247, address mapping):
 * the localpart is XEP-0106-unescaped, then %-escaped for SIP's user part; the resource becomes the
 * GRUU `gr` parameter (RFC 5627), since both name one instance of the user.
 */
export function jidToSipUri(jid: string): string {
  const { local, domain, resource } = splitJid(jid);
  // A domain JID is a server, not a user: the gateway only maps user addresses.
  if (local === '') throw new AddressMappingError(`'${jid}' has no localpart: only user addresses cross the XMPP gateway`);
  const user = escapeSipUser(xep0106Unescape(local));
  return `sip:${user}@${domain}${resource === undefined ? '' : `;gr=${escapeSipParam(resource)}`}`;
}

interface SipParts {
  user: string;
  host: string;
  gr?: string;
}

function splitSipUri(uri: string, role: SipAddressRole): SipParts {
  // sips: asks for TLS on every hop; XMPP cannot promise that, so RFC 7247 section 8 never
  // translates a request whose To or Request-URI is sips:. A sips: sender changes nothing there.
  if (/^sips:/i.test(uri) && role === 'target') throw new SipsTargetError(`'${uri}' is a sips: URI, which is never gatewayed to XMPP (RFC 7247 section 8)`);
  if (!/^sips?:/i.test(uri)) throw new AddressMappingError(`'${uri}' is not a sip: URI`);
  const rest = uri.slice(uri.indexOf(':') + 1);
  // '@' is allowed unescaped in neither user, password, host, params nor headers (RFC 3261 section 25.1),
  // so the first one ends the userinfo.
  const at = rest.indexOf('@');
  if (at < 0) throw new AddressMappingError(`'${uri}' has no user part: only user addresses cross the XMPP gateway`);
  const user = rest.slice(0, at).split(':')[0] ?? '';
  if (user === '') throw new AddressMappingError(`'${uri}' has an empty user part`);
  const [hostport = '', ...params] = (rest.slice(at + 1).split('?')[0] ?? '').split(';');
  // The JID has no port: drop it (an IPv6 reference keeps its brackets and inner colons).
  const host = hostport.replace(/:\d+$/, '');
  if (host === '') throw new AddressMappingError(`'${uri}' has no host`);
  const parts: SipParts = { user, host };
  for (const p of params) {
    const [name = '', value] = p.split('=');
    // A valueless `;gr` marks a temporary GRUU (RFC 5627 section 3.1.2): no instance to name.
    if (name.toLowerCase() === 'gr' && value) parts.gr = percentDecode(value, 'gr parameter');
  }
  return parts;
}

/** Where the URI stands in the request: its target (Request-URI, To) or its sender (From). */
export type SipAddressRole = 'target' | 'sender';

/**
 * `sip:alice@partner.test;gr=phone` -> `alice@partner.test/phone`: the inverse of `jidToSipUri`.
 * A target may not be sips: (RFC 7247 section 8); a sender may.
 */
export function sipUriToJid(uri: string, role: SipAddressRole = 'target'): string {
  const { user, host, gr } = splitSipUri(uri, role);
  const local = xep0106Escape(percentDecode(user, 'SIP user part'));
  return `${local}@${host}${gr === undefined ? '' : `/${gr}`}`;
}

/**
 * The JID of an XMPP URI (RFC 5122 section 2: `xmpp:[//authority/]jid[?query][#fragment]`,
 * %-encoded), as <gone/> and <redirect/> carry a new address; undefined for anything else.
 */
export function xmppUriToJid(uri: string): string | undefined {
  const m = /^xmpp:(?:\/\/[^/]*\/)?([^?#]+)/i.exec(uri.trim());
  if (!m) return undefined;
  try {
    const jid = decodeURIComponent(m[1]!);
    splitJid(jid);
    return jid;
  } catch {
    return undefined;
  }
}

export function bareJid(jid: string): string {
  const { local, domain } = splitJid(jid);
  return local === '' ? domain : `${local}@${domain}`;
}

/** The domain of a JID or of a sip:/sips: URI. */
export function domainOf(addr: string): string {
  if (/^sips?:/i.test(addr)) {
    const rest = addr.replace(/^sips?:/i, '');
    const hostport = (rest.slice(rest.indexOf('@') + 1).split(/[;?]/)[0] ?? '').replace(/:\d+$/, '');
    if (hostport === '') throw new AddressMappingError(`'${addr}' has no host`);
    return hostport;
  }
  return splitJid(addr).domain;
}
