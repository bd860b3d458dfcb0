import type { Endpoint } from '../../infra/endpoint.js';
import { bareOf, xml, XmppUser, type Element } from '../../xmpp/client.js';
import type { SfbAvailability, ShowMapping } from '../../sfb/availability.js';

/** A real gateway's test user that xfed drives over XMPP c2s, answering as its role says. */
export interface Responder {
  readonly user: XmppUser;
  /** The availability last published (Available after login). */
  availability: SfbAvailability;
  /** Publishes an SfB availability as the XMPP presence it maps to (the gateway's mapping). */
  setAvailability(availability: SfbAvailability, note?: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ResponderOptions {
  jid: string;
  password: string;
  endpoint: Endpoint;
  /** PEM of the CAs the user's server certificate chains to; empty for the system's roots. */
  trustPem: string;
  /** echo: answers IMs from outside its domain with their text and accepts subscriptions; accept: subscriptions only; none: neither. */
  role: 'echo' | 'accept' | 'none';
  sfbDomain: string;
  showMapping: ShowMapping;
}

/**
 * Logs the user in (available, so presence and subscriptions reach it) and answers on arrival, in
 * order: an echo never overtakes an earlier answer, which barriers rely on.
 */
export async function startResponder(o: ResponderOptions): Promise<Responder> {
  const user = await XmppUser.connect({ jid: o.jid, password: o.password, endpoint: o.endpoint, trustPem: o.trustPem, available: true });
  const fromOutside = (s: Element) =>
    bareOf(s.attrs.from as string | undefined)
      ?.split('@')
      .pop() !== o.sfbDomain.toLowerCase();
  const stops: Array<() => void> = [];
  if (o.role === 'echo') {
    stops.push(
      user.respondOnArrival(
        (s) => s.is('message') && s.attrs.type !== 'error' && s.attrs.type !== 'groupchat' && s.getChildText('body') !== null && fromOutside(s),
        (s) =>
          xml('message', { to: s.attrs.from as string, type: (s.attrs.type as string | undefined) ?? 'chat' }, xml('body', {}, s.getChildText('body') ?? '')),
      ),
    );
  }
  if (o.role !== 'none') {
    stops.push(
      user.respondOnArrival(
        (s) => s.is('presence') && s.attrs.type === 'subscribe',
        (s) => xml('presence', { to: bareOf(s.attrs.from as string)!, type: 'subscribed' }),
      ),
    );
  }
  const responder: Responder = {
    user,
    availability: 'Available',
    async setAvailability(availability, note) {
      responder.availability = availability;
      const mapped = o.showMapping[availability];
      const children = [...(mapped.show ? [xml('show', {}, mapped.show)] : []), ...(note ? [xml('status', {}, note)] : [])];
      await user.sendPresence(mapped.basic === 'closed' ? { type: 'unavailable' } : {}, ...children);
    },
    async stop() {
      stops.forEach((off) => off());
      await user.stop();
    },
  };
  return responder;
}
