import { withDeadline } from '../../infra/deadline.js';
import type { Endpoint } from '../../infra/endpoint.js';
import { bareOf, xml, XmppUser, type ConnectOptions, type Element, type ReconnectPolicy } from '../../xmpp/client.js';
import type { SfbAvailability, ShowMapping } from '../../sfb/availability.js';

/** A real gateway's test user that xfed drives over XMPP c2s, answering as its role says. */
export interface Responder {
  readonly user: XmppUser;
  /** The availability last published (Available after login). */
  availability: SfbAvailability;
  /** Publishes an SfB availability as the XMPP presence it maps to (the gateway's mapping). */
  setAvailability(availability: SfbAvailability, note?: string): Promise<void>;
  /**
   * Removes from the user's roster the partner contacts the run added (those not there at login),
   * within `timeoutMs`; says what it could not remove, or undefined.
   */
  restoreRoster(timeoutMs: number): Promise<string | undefined>;
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
  /** What a failed login names (the endpoint, CA file and password variable as the suite wrote them). */
  names?: ConnectOptions['names'];
  reconnect?: ReconnectPolicy;
  /** The partner's domains: roster items of theirs that the run added are removed by restoreRoster(). */
  partnerDomains?: readonly string[];
}

const ROSTER = 'jabber:iq:roster';

async function rosterJids(user: XmppUser): Promise<string[]> {
  const roster = await user.iq('get', undefined, xml('query', { xmlns: ROSTER }));
  return (roster.getChild('query')?.getChildren('item') ?? []).map((i) => String(i.attrs.jid).toLowerCase());
}

/**
 * Logs the user in (available, so presence and subscriptions reach it) and answers on arrival, in
 * order: an echo never overtakes an earlier answer, which barriers rely on.
 */
export async function startResponder(o: ResponderOptions): Promise<Responder> {
  const user = await XmppUser.connect({
    jid: o.jid,
    password: o.password,
    endpoint: o.endpoint,
    trustPem: o.trustPem,
    available: true,
    ...(o.names ? { names: o.names } : {}),
    ...(o.reconnect ? { reconnect: o.reconnect } : {}),
  });
  const partnerDomains = new Set((o.partnerDomains ?? []).map((d) => d.toLowerCase()));
  // What the lab had before the run is the lab's: only what the run adds is removed after it.
  const before = new Set(
    partnerDomains.size > 0
      ? await rosterJids(user).catch(async (err: unknown) => {
          await user.stop();
          throw err;
        })
      : [],
  );
  const ofPartner = (jid: string) => partnerDomains.has(jid.split('@').pop()!) && !before.has(jid);
  // The roster pushes say what the run adds, so a user whose session is gone at the end can still name them.
  const added = new Set<string>();
  const offPushes = user.onTraffic((direction, s) => {
    if (direction !== 'in' || !s.is('iq') || s.attrs.type !== 'set') return;
    for (const item of s.getChild('query', ROSTER)?.getChildren('item') ?? []) {
      const jid = String(item.attrs.jid).toLowerCase();
      if (!ofPartner(jid)) continue;
      if (item.attrs.subscription === 'remove') added.delete(jid);
      else added.add(jid);
    }
  });
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
    async restoreRoster(timeoutMs) {
      if (partnerDomains.size === 0) return undefined;
      try {
        await withDeadline(
          (async () => {
            for (const jid of (await rosterJids(user)).filter(ofPartner)) added.add(jid);
            for (const jid of added) {
              await user.iq('set', undefined, xml('query', { xmlns: ROSTER }, xml('item', { jid, subscription: 'remove' })));
              added.delete(jid);
            }
          })(),
          timeoutMs,
          `${o.jid}'s roster to lose the partner contacts of the run`,
        );
        return undefined;
      } catch (err) {
        const left = added.size > 0 ? ` (${[...added].join(', ')})` : '';
        return `could not remove the partner contacts the run added to ${o.jid}'s roster${left}: ${(err as Error).message}`;
      }
    },
    async stop() {
      stops.forEach((off) => off());
      offPushes();
      await user.stop();
    },
  };
  return responder;
}
