import type { Cite } from '../../../sfb/behaviours/log.js';
import type { PartnerType } from '../../../sfb/partner-profile.js';
import type { SipEndpoint, SipResponseInit } from '../../../sip/endpoint.js';
import { escapeSipUser, unescapeSipUser } from '../../../sip/escape.js';
import { parseSipUri, type SipRequest, type SipResponse } from '../../../sip/message.js';
import type { SfbDirectory, SfbUserState } from './directory.js';
import type { SipUserEvent } from './user-event.js';

export interface ImOptions {
  subject?: string;
  callId?: string;
  lang?: string;
  /** The body's type: text/plain unless told (an SfB client may send text/html). */
  contentType?: string;
}

/** What the parts of a pool (its scripted users, its presence notifier, its users' contacts) get from it. */
export interface HomePool {
  readonly directory: SfbDirectory;
  readonly endpoint: SipEndpoint;
  /** Sends what a user originates, where the pool routes it. */
  userSend(user: SfbUserState, req: SipRequest): Promise<SipResponse>;
  /** An IM a user writes, through his home pool wherever he is asked from. */
  sendIm(user: string, to: string, body: string, opts?: ImOptions): Promise<SipResponse>;
  /** A contact a user adds, through his home pool wherever he is asked from. */
  addContact(user: string, contact: string): Promise<SipResponse>;
  /** Whether `user` has `contactUri` (a normalised URI) on his contact list, on any pool. */
  hasContact(user: string, contactUri: string): boolean;
  /** The PartnerType of an XMPP domain in the allowed-partner list, which the Front End reads from the CMS. */
  partnerTypeOf(domain: string): PartnerType | undefined;
  userEvent(event: SipUserEvent): void;
  /** Work started by an answer (an echo, a NOTIFY); stop() waits for it. */
  inBackground(work: Promise<unknown>): void;
  /** A refusal with the pool's Warning. */
  refuse(status: number, why: string): SipResponseInit;
  mustUser(name: string): SfbUserState;
  /** Says which catalogue behaviour the pool applies (docs/sfb-behaviours.md). */
  readonly cite: Cite;
}

export const dialogKey = (callId: string, localTag: string) => `${callId}\n${localTag}`;

/** `alice@partner.test` or a SIP URI, normalised (escapes, no parameters) so it can be a map key. */
export function toUri(address: string): string {
  const raw = /^sips?:/i.test(address) ? address : `sip:${address}`;
  const u = parseSipUri(raw);
  const user = u.user !== undefined ? `${escapeSipUser(unescapeSipUser(u.user))}@` : '';
  return `${u.scheme}:${user}${u.host}${u.port !== undefined ? `:${u.port}` : ''}`;
}

export function isOffline(user: SfbUserState): boolean {
  return user.behaviour === 'offline' || user.availability === 'Offline';
}
