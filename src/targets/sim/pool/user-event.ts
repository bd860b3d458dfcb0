import type { PidfPresence } from '../../../sip/pidf.js';

/** What an SfB user of a simulated pool received, answered or sent, as the pool reports it ('user-event'). */
export type SipUserEventKind = 'im' | 'echo' | 'subscribe' | 'refresh' | 'unsubscribe' | 'probe' | 'notify';

export interface SipUserEvent {
  user: string;
  kind: SipUserEventKind;
  /** The other party's URI. */
  from: string;
  body?: string;
  subject?: string;
  lang?: string;
  callId?: string;
  presence?: PidfPresence;
  /** Subscription-State sent or received. */
  subscriptionState?: string;
  /** The SIP status the user answered, or (kind 'echo') got. */
  status?: number;
  error?: string;
  at: number;
}
