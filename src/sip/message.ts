import { randomBytes } from 'node:crypto';
import { XfedError } from '../errors.js';

/**
 * SIP message codec (RFC 3261 section 7 and 25). Small on purpose: enough grammar for the
 * simulated SfB pools and whatever a real peer (sipp, a gateway) sends them.
 */
export class SipParseError extends XfedError {}
/** A message bigger than xfed reads (RFC 3261 21.5.14: answered 513 Message Too Large). */
export class SipTooLarge extends SipParseError {}

/** Bounds on what a peer's message may hold: far above what SfB sends, far below what hurts. */
export const SIP_LIMITS = { headerBytes: 64 * 1024, headerLines: 256, bodyBytes: 64 * 1024 } as const;

// RFC 3261 7.3.3 compact forms, plus the ones RFC 3265/3903 added.
const COMPACT: Record<string, string> = {
  i: 'Call-ID',
  f: 'From',
  t: 'To',
  v: 'Via',
  m: 'Contact',
  l: 'Content-Length',
  c: 'Content-Type',
  s: 'Subject',
  k: 'Supported',
  o: 'Event',
  e: 'Content-Encoding',
  u: 'Allow-Events',
};

// Spellings that plain Title-Case would get wrong; everything else is Title-Cased.
const SPECIAL: Record<string, string> = { 'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version' };

// Every header access canonicalises its name: a hot path under load. Bounded, since peers choose names.
const CANONICAL = new Map<string, string>();

function canonicalName(name: string): string {
  const known = CANONICAL.get(name);
  if (known !== undefined) return known;
  const lower = name.trim().toLowerCase();
  const canonical = COMPACT[lower] ?? SPECIAL[lower] ?? lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  if (CANONICAL.size < 256) CANONICAL.set(name, canonical);
  return canonical;
}

// Headers whose comma-separated values are separate entries (RFC 3261 7.3.1).
const LIST_HEADERS = new Set(['via', 'route', 'record-route', 'contact']);

/** Case-insensitive header list that keeps order and repeated names. */
export class SipHeaders {
  private list: Array<[string, string]> = [];

  constructor(init?: Iterable<[string, string]>) {
    for (const [n, v] of init ?? []) this.append(n, v);
  }

  get(name: string): string | undefined {
    const key = canonicalName(name);
    return this.list.find(([n]) => n === key)?.[1];
  }

  getAll(name: string): string[] {
    const key = canonicalName(name);
    return this.list.filter(([n]) => n === key).map(([, v]) => v);
  }

  /** Replaces every value of `name` with one, at the position of the first. */
  set(name: string, value: string): this {
    const key = canonicalName(name);
    const i = this.list.findIndex(([n]) => n === key);
    this.delete(key);
    if (i < 0) this.list.push([key, value]);
    else this.list.splice(i, 0, [key, value]);
    return this;
  }

  append(name: string, value: string): this {
    this.list.push([canonicalName(name), value]);
    return this;
  }

  /** Puts a value before all others of its name, e.g. a new top Via. */
  prepend(name: string, value: string): this {
    const key = canonicalName(name);
    const i = this.list.findIndex(([n]) => n === key);
    this.list.splice(i < 0 ? this.list.length : i, 0, [key, value]);
    return this;
  }

  /** Removes the first value of `name`, e.g. a proxy's own Via from a response. */
  shift(name: string): string | undefined {
    const key = canonicalName(name);
    const i = this.list.findIndex(([n]) => n === key);
    return i < 0 ? undefined : this.list.splice(i, 1)[0]?.[1];
  }

  delete(name: string): this {
    const key = canonicalName(name);
    this.list = this.list.filter(([n]) => n !== key);
    return this;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  entries(): Array<[string, string]> {
    return this.list.map(([n, v]) => [n, v]);
  }

  clone(): SipHeaders {
    return new SipHeaders(this.list);
  }
}

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: string;
}
export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: string;
}
export type SipMessage = SipRequest | SipResponse;

/** Splits on `sep` outside double quotes and angle brackets. */
function splitOutside(value: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '\\' && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle++;
    else if (!quoted && ch === '>') angle = Math.max(0, angle - 1);
    else if (!quoted && angle === 0 && ch === sep) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const CRLF2 = Buffer.from('\r\n\r\n');
const LF2 = Buffer.from('\n\n');

/** Where the header block ends: [end of headers, start of body]. */
function headerEnd(buf: Buffer): [number, number] | undefined {
  const crlf = buf.indexOf(CRLF2);
  const lf = buf.indexOf(LF2);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return [crlf, crlf + 4];
  if (lf >= 0) return [lf, lf + 2];
  return undefined;
}

interface Head {
  start: SipRequest | SipResponse;
  bodyStart: number;
}

function parseHead(buf: Buffer): Head {
  // Without a blank line the message is broken, but its head may still be enough to answer 400.
  const [headEnd, bodyStart] = headerEnd(buf) ?? [buf.length, buf.length];
  if (headEnd > SIP_LIMITS.headerBytes) throw new SipTooLarge(`a header block of ${headEnd} bytes (limit ${SIP_LIMITS.headerBytes})`);
  const lines = buf.subarray(0, headEnd).toString('utf8').split(/\r?\n/);
  while (lines[0] === '') lines.shift(); // stray CRLFs before the start line are allowed (7.5)
  if (lines.length > SIP_LIMITS.headerLines + 1) throw new SipTooLarge(`${lines.length - 1} header lines (limit ${SIP_LIMITS.headerLines})`);
  const startLine = lines.shift();
  if (!startLine) throw new SipParseError('empty SIP message');
  const headers = new SipHeaders();
  let last: [string, string] | undefined;
  const flush = () => {
    if (!last) return;
    const [name, value] = last;
    const values = LIST_HEADERS.has(canonicalName(name).toLowerCase()) ? splitOutside(value, ',') : [value];
    for (const v of values) headers.append(name, v);
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      // Folded continuation of the previous header (7.3.1): joined with one space.
      if (!last) throw new SipParseError(`header continuation without a header: "${line.trim()}"`);
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(name)) throw new SipParseError(`malformed header line: "${line}"`);
    flush();
    last = [name, line.slice(colon + 1).trim()];
  }
  flush();

  const res = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  if (res) {
    return { start: { kind: 'response', status: Number(res[1]), reason: res[2] ?? '', headers, body: '' }, bodyStart };
  }
  const req = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/.exec(startLine);
  if (req) return { start: { kind: 'request', method: req[1]!, uri: req[2]!, headers, body: '' }, bodyStart };
  throw new SipParseError(`malformed start line: "${startLine}"`);
}

function contentLength(headers: SipHeaders): number | undefined {
  const raw = headers.get('Content-Length');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new SipParseError(`bad Content-Length: "${raw}"`);
  const length = Number(raw);
  if (length > SIP_LIMITS.bodyBytes) throw new SipTooLarge(`Content-Length ${raw} (limit ${SIP_LIMITS.bodyBytes})`);
  return length;
}

/**
 * Parses one whole message (a datagram, or a frame cut by `takeSipFrame`). The body is
 * Content-Length bytes (UTF-8); without Content-Length (allowed on UDP) it is the rest.
 */
export function parseSipMessage(data: Buffer | string): SipMessage {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!headerEnd(buf)) throw new SipParseError('SIP message has no blank line after its headers');
  const { start, bodyStart } = parseHead(buf);
  const len = contentLength(start.headers);
  const available = buf.length - bodyStart;
  if (len !== undefined && len > available) {
    throw new SipParseError(`Content-Length ${len} but only ${available} body bytes`);
  }
  start.body = buf.subarray(bodyStart, bodyStart + (len ?? available)).toString('utf8');
  return start;
}

/**
 * Parses as much as can be trusted of a message that `parseSipMessage` rejected: the start line
 * and headers, so that a request can still be answered 400.
 */
export function parseSipHeadLeniently(data: Buffer): SipMessage | undefined {
  try {
    return parseHead(data).start;
  } catch {
    return undefined;
  }
}

/**
 * Cuts one message off the front of a stream (TCP, RFC 3261 18.3): undefined when the buffer
 * does not hold a whole message yet. Leading CRLFs (keep-alives) are skipped.
 */
export function takeSipFrame(buf: Buffer): { frame: Buffer; rest: Buffer } | undefined {
  let skip = 0;
  while (skip < buf.length && (buf[skip] === 0x0d || buf[skip] === 0x0a)) skip++;
  const data = buf.subarray(skip);
  const end = headerEnd(data);
  if (!end) return undefined;
  const { start } = parseHead(data.subarray(0, end[1]));
  const total = end[1] + (contentLength(start.headers) ?? 0);
  if (data.length < total) return undefined;
  return { frame: data.subarray(0, total), rest: data.subarray(total) };
}

export function serializeSipMessage(msg: SipMessage): Buffer {
  const body = Buffer.from(msg.body, 'utf8');
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines = [start];
  for (const [n, v] of msg.headers.entries()) if (n !== 'Content-Length') lines.push(`${n}: ${v}`);
  lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  host: string;
  port?: number;
  params: Record<string, string>;
  /** The `?` part, kept raw. */
  headers?: string;
}

function parseParams(parts: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of parts) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (name) params[name] = eq < 0 ? '' : p.slice(eq + 1).trim();
  }
  return params;
}

function formatParams(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => (v === '' ? `;${k}` : `;${k}=${v}`))
    .join('');
}

/** `sip:user@host:port;params?headers`. The user part stays %-escaped as received. */
export function parseSipUri(uri: string): SipUri {
  const m = /^(sips?):(.*)$/i.exec(uri.trim());
  if (!m) throw new SipParseError(`not a sip: or sips: URI: "${uri}"`);
  const scheme = m[1]!.toLowerCase() as 'sip' | 'sips';
  let rest = m[2]!;
  let headers: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    headers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const at = rest.lastIndexOf('@');
  const user = at >= 0 ? rest.slice(0, at) : undefined;
  const [hostport = '', ...paramParts] = rest.slice(at + 1).split(';');
  const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9\-.]+)(?::(\d{1,5}))?$/.exec(hostport);
  if (!hp || (user !== undefined && user === '')) throw new SipParseError(`malformed SIP URI: "${uri}"`);
  const out: SipUri = { scheme, host: hp[1]!.toLowerCase(), params: parseParams(paramParts) };
  if (user !== undefined) out.user = user;
  if (hp[2] !== undefined) out.port = Number(hp[2]);
  if (headers !== undefined) out.headers = headers;
  return out;
}

export function formatSipUri(u: SipUri): string {
  const user = u.user !== undefined ? `${u.user}@` : '';
  const port = u.port !== undefined ? `:${u.port}` : '';
  const headers = u.headers !== undefined ? `?${u.headers}` : '';
  return `${u.scheme}:${user}${u.host}${port}${formatParams(u.params)}${headers}`;
}

export interface NameAddr {
  display?: string;
  uri: string;
  params: Record<string, string>;
}

/** From/To/Contact values: `"Name" <uri>;tag=x`, `Name <uri>`, or a bare `uri;tag=x`. */
export function parseNameAddr(v: string): NameAddr {
  const s = v.trim();
  const lt = s.indexOf('<');
  if (lt < 0) {
    // Bare addr-spec: parameters after it belong to the header, not the URI (RFC 3261 20.10).
    const [uri = '', ...params] = s.split(';');
    if (!uri.trim()) throw new SipParseError(`malformed name-addr: "${v}"`);
    return { uri: uri.trim(), params: parseParams(params) };
  }
  const gt = s.indexOf('>', lt);
  if (gt < 0) throw new SipParseError(`unclosed < in "${v}"`);
  let display: string | undefined = s.slice(0, lt).trim();
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(display);
  if (quoted) display = quoted[1]!.replace(/\\(.)/g, '$1');
  const out: NameAddr = {
    uri: s.slice(lt + 1, gt).trim(),
    params: parseParams(
      s
        .slice(gt + 1)
        .split(';')
        .slice(1),
    ),
  };
  if (display) out.display = display;
  return out;
}

/** The tag of a From/To header, or undefined (also for an unreadable header). */
export function tagOf(header: string | undefined): string | undefined {
  return readNameAddr(header)?.params.tag;
}

/** The URI of a From/To/Contact header, or undefined (also for an unreadable header). */
export function uriOf(header: string | undefined): string | undefined {
  return readNameAddr(header)?.uri;
}

function readNameAddr(header: string | undefined): NameAddr | undefined {
  if (!header) return undefined;
  try {
    return parseNameAddr(header);
  } catch {
    return undefined;
  }
}

export function formatNameAddr(n: NameAddr): string {
  const display = n.display !== undefined ? `"${n.display.replace(/(["\\])/g, '\\$1')}" ` : '';
  return `${display}<${n.uri}>${formatParams(n.params)}`;
}

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Record<string, string>;
}

/** One Via value: `SIP/2.0/UDP host:port;branch=...;rport`. */
export function parseVia(v: string): Via {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[0-9a-fA-F:.]+\]|[^\s;:]+)(?::(\d+))?\s*(.*)$/.exec(v.trim());
  if (!m) throw new SipParseError(`malformed Via: "${v}"`);
  const out: Via = { transport: m[1]!.toUpperCase(), host: m[2]!, params: parseParams(m[4]!.split(';').slice(1)) };
  if (m[3] !== undefined) out.port = Number(m[3]);
  return out;
}

export function formatVia(v: Via): string {
  return `SIP/2.0/${v.transport} ${v.host}${v.port !== undefined ? `:${v.port}` : ''}${formatParams(v.params)}`;
}

const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Provisional' : status < 300 ? 'Success' : status < 400 ? 'Redirection' : 'Failure');
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export function newTag(): string {
  return hex(5);
}

export function newCallId(host: string): string {
  return `${hex(10)}@${host}`;
}

/** RFC 3261 branches start with the magic cookie so transactions can be matched by them. */
export function newBranch(): string {
  return `z9hG4bK${hex(8)}`;
}
