import type { BehaviourId } from '../../../sfb/behaviours/index.js';
import { stanzaErrorType, type StanzaErrorType } from '../../../xmpp/stanza-errors.js';

/**
 * Stanza error <-> SIP status, as the simulated gateway applies it: RFC 7247 section 7, both tables
 * complete with their notes, as data (one row per code). Error types are the ones RFC 6120 section
 * 8.3.3 gives each condition (xmpp/stanza-errors.ts).
 */
export interface StanzaErrorInfo {
  condition: string;
  type: StanzaErrorType;
}

/** One row of RFC 7247 section 7.2, Table 3 (SIP -> XMPP), with the RFC's note where it has one. */
export interface SipToXmppRow {
  status: number;
  condition: string;
  note?: string;
}

/** RFC 7247 section 7.2, Table 3, every listed code. Codes it does not list take their class's row (below). */
export const SIP_TO_XMPP_TABLE: readonly SipToXmppRow[] = [
  { status: 301, condition: 'gone' },
  { status: 302, condition: 'redirect' },
  { status: 380, condition: 'not-acceptable' },
  { status: 400, condition: 'bad-request' },
  { status: 401, condition: 'not-authorized' },
  { status: 402, condition: 'bad-request' },
  { status: 403, condition: 'forbidden' },
  { status: 404, condition: 'item-not-found' },
  { status: 405, condition: 'feature-not-implemented' },
  { status: 406, condition: 'not-acceptable' },
  { status: 407, condition: 'registration-required' },
  { status: 408, condition: 'remote-server-timeout' },
  { status: 410, condition: 'gone' },
  { status: 413, condition: 'policy-violation' },
  { status: 414, condition: 'policy-violation' },
  { status: 415, condition: 'not-acceptable' },
  { status: 416, condition: 'not-acceptable' },
  { status: 420, condition: 'feature-not-implemented' },
  { status: 421, condition: 'not-acceptable' },
  { status: 423, condition: 'resource-constraint' },
  { status: 430, condition: 'recipient-unavailable', note: 'defined by RFC 5626 (SIP Outbound)' },
  { status: 439, condition: 'feature-not-implemented', note: 'defined by RFC 5626 (SIP Outbound)' },
  { status: 440, condition: 'policy-violation', note: 'defined by RFC 5393 (Max-Breadth)' },
  { status: 480, condition: 'recipient-unavailable' },
  { status: 481, condition: 'item-not-found' },
  { status: 482, condition: 'not-acceptable' },
  { status: 483, condition: 'not-acceptable' },
  { status: 484, condition: 'item-not-found' },
  { status: 485, condition: 'item-not-found' },
  { status: 486, condition: 'recipient-unavailable' },
  { status: 487, condition: 'recipient-unavailable' },
  { status: 488, condition: 'not-acceptable' },
  { status: 489, condition: 'policy-violation', note: 'defined by RFC 6665 (SIP events)' },
  { status: 491, condition: 'unexpected-request' },
  { status: 500, condition: 'internal-server-error' },
  { status: 501, condition: 'feature-not-implemented' },
  { status: 502, condition: 'remote-server-not-found' },
  { status: 503, condition: 'internal-server-error' },
  { status: 504, condition: 'remote-server-timeout' },
  { status: 505, condition: 'not-acceptable' },
  { status: 513, condition: 'policy-violation' },
  { status: 600, condition: 'recipient-unavailable' },
  { status: 603, condition: 'recipient-unavailable' },
  { status: 604, condition: 'item-not-found' },
  { status: 606, condition: 'not-acceptable' },
];

/** Table 3's rows for a whole class (3xx, 4xx, 5xx, 6xx): any code the table does not list. */
const SIP_CLASS_TO_XMPP: Readonly<Record<3 | 4 | 5 | 6, string>> = {
  3: 'redirect',
  4: 'bad-request',
  5: 'internal-server-error',
  6: 'recipient-unavailable',
};

const SIP_TO_XMPP = new Map(SIP_TO_XMPP_TABLE.map((r) => [r.status, r.condition]));

/** A SIP final failure status (300-699) as the stanza error the XMPP side gets (RFC 7247 section 7.2). */
export function sipStatusToStanzaError(status: number): StanzaErrorInfo {
  if (!Number.isInteger(status) || status < 300 || status > 699) throw new RangeError(`SIP status ${status} is not a failure response (300-699)`);
  const condition = SIP_TO_XMPP.get(status) ?? SIP_CLASS_TO_XMPP[Math.floor(status / 100) as 3 | 4 | 5 | 6];
  return { condition, type: stanzaErrorType(condition) };
}

/**
 * One row of RFC 7247 section 7.1, Table 2 (XMPP -> SIP). `status` is the code for an error about a
 * full JID (one client of the user); the other fields are the variants the table's notes give.
 */
export interface XmppToSipRow {
  condition: string;
  status: number;
  /** Notes 1 and 2: the code when the failed stanza was addressed to a bare JID (the user, wherever he is). */
  bareJid?: number;
  /** Note 3: the code when <gone/> (or <redirect/>) names the new address, sent on in Contact. */
  newAddress?: number;
  /** Note 4: the code when the remote domain exists but cannot be resolved to a server that answers. */
  unresolvable?: number;
  note?: string;
  /** The catalogue row of an xfed choice where the table leaves one (or has no row). */
  choice?: BehaviourId;
  /** A row RFC 7247 does not have. */
  outsideTable?: true;
}

/** RFC 7247 section 7.1, Table 2, every row, and RFC 3920's payment-required. */
export const XMPP_TO_SIP_TABLE: readonly XmppToSipRow[] = [
  { condition: 'bad-request', status: 400 },
  { condition: 'conflict', status: 400 },
  {
    condition: 'feature-not-implemented',
    status: 405,
    bareJid: 501,
    note: 'note 1: 405 Method Not Allowed for one client (a full JID), 501 Not Implemented for the user anywhere (a bare JID)',
  },
  { condition: 'forbidden', status: 403, bareJid: 603, note: 'note 2: 6xx for a bare JID (the user everywhere), 4xx for a full JID' },
  { condition: 'gone', status: 410, newAddress: 301, note: 'note 3: 301 Moved Permanently when <gone/> gives the new address, 410 otherwise' },
  { condition: 'internal-server-error', status: 500 },
  { condition: 'item-not-found', status: 404, bareJid: 604, note: 'note 2' },
  { condition: 'jid-malformed', status: 400 },
  { condition: 'not-acceptable', status: 406, bareJid: 606, note: 'note 2' },
  { condition: 'not-allowed', status: 403, bareJid: 603, note: 'note 2' },
  { condition: 'not-authorized', status: 401 },
  { condition: 'policy-violation', status: 403 },
  { condition: 'recipient-unavailable', status: 480, bareJid: 600, note: 'note 2' },
  { condition: 'redirect', status: 302, newAddress: 302, note: 'RFC 6120 8.3.3.14: <redirect/> may name the new address, sent on in Contact' },
  { condition: 'registration-required', status: 407 },
  {
    condition: 'remote-server-not-found',
    status: 404,
    unresolvable: 408,
    note: 'note 4: 404 when the remote domain does not exist, 408 when it cannot be resolved',
  },
  { condition: 'remote-server-timeout', status: 408 },
  { condition: 'resource-constraint', status: 500 },
  // Note 5: 503 is NOT RECOMMENDED (a SIP client that gets 503 tries another server, RFC 3261
  // section 21.5.4); 403 or 405 are the closest. 405: 403 already stands for forbidden and
  // policy-violation, and a 403 to a SUBSCRIBE refresh ends the subscription for good (RFC 8048).
  { condition: 'service-unavailable', status: 405, note: 'note 5: never 503; 403 or 405', choice: 'errors.service-unavailable-405' },
  { condition: 'subscription-required', status: 400 },
  { condition: 'undefined-condition', status: 400 },
  { condition: 'unexpected-request', status: 491 },
  { condition: 'payment-required', status: 402, choice: 'errors.payment-required-402', outsideTable: true },
];

const XMPP_TO_SIP = new Map(XMPP_TO_SIP_TABLE.map((r) => [r.condition, r]));
const UNDEFINED_CONDITION = XMPP_TO_SIP.get('undefined-condition')!;

/** What the gateway knows of the failed stanza besides the condition. */
export interface XmppErrorContext {
  /** The JID the failed stanza was addressed to: bare (the user) or full (one of his clients). */
  addressedTo: 'bare' | 'full';
  /** The new address <gone/> or <redirect/> gave, if any. */
  newAddress?: string;
  /** For remote-server-not-found: DNS says the domain does not exist, or not (RFC 7247 7.1 note 4). */
  remoteDomain?: 'absent' | 'unresolvable';
}

/** The SIP status a stanza error becomes, and the catalogue rows that decided it. */
export interface SipFailure {
  status: number;
  behaviours: BehaviourId[];
}

/** A stanza error as the SIP status the SIP side gets (RFC 7247 section 7.1, Table 2 and its notes). */
export function stanzaErrorToSip(condition: string, ctx: XmppErrorContext): SipFailure {
  const known = XMPP_TO_SIP.get(condition);
  // A condition RFC 6120 does not define is read as undefined-condition (the catalogue says why).
  const row = known ?? UNDEFINED_CONDITION;
  const behaviours: BehaviourId[] = [];
  if (!known) behaviours.push('errors.unknown-condition');
  else if (!known.outsideTable) behaviours.push('errors.xmpp-to-sip');
  if (row.choice) behaviours.push(row.choice);
  let status = row.status;
  if (row.bareJid !== undefined && ctx.addressedTo === 'bare') {
    status = row.bareJid;
    behaviours.push('errors.bare-jid-6xx');
  }
  if (row.newAddress !== undefined && ctx.newAddress !== undefined) {
    status = row.newAddress;
    behaviours.push('errors.new-address-contact');
  }
  if (row.unresolvable !== undefined) {
    if (ctx.remoteDomain === 'unresolvable') status = row.unresolvable;
    behaviours.push('errors.remote-server-not-found');
  }
  return { status, behaviours };
}

/** `stanzaErrorToSip`'s status alone; a full JID unless told otherwise. */
export function stanzaErrorToSipStatus(condition: string, ctx: XmppErrorContext = { addressedTo: 'full' }): number {
  return stanzaErrorToSip(condition, ctx).status;
}
