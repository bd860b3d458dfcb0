import { bareOf, type Element, type XmppUser } from '../xmpp/client.js';
import { DEFAULT_SHOW_MAPPING, type SfbAvailability, type ShowMapping } from '../sfb/availability.js';
import { fail, pass, sfbJid, sfbSide, type CheckContext, type CheckKindHandler } from './check.js';

/** What a watcher saw of a presence stanza: `unavailable`, a show value, or `none` (plain available). */
export function seenState(p: Element): string {
  if (p.attrs.type === 'unavailable') return 'unavailable';
  return p.getChildText('show') ?? 'none';
}

const isPresenceOf = (jid: string) => (s: Element) =>
  s.is('presence') && bareOf(s.attrs.from as string) === jid && (s.attrs.type === undefined || s.attrs.type === 'unavailable');

/** Makes sure `watcher` is subscribed to the SfB user, subscribing first when needed. */
async function ensureSubscribed(ctx: CheckContext, watcher: XmppUser, jid: string): Promise<string | undefined> {
  if (watcher.received().some((r) => r.stanza.is('presence') && r.stanza.attrs.type === 'subscribed' && bareOf(r.stanza.attrs.from as string) === jid)) return undefined;
  await watcher.sendPresence({ to: jid, type: 'subscribe' });
  const r = await watcher.waitFor(
    (s) => s.is('presence') && bareOf(s.attrs.from as string) === jid && ['subscribed', 'unsubscribed', 'error'].includes(s.attrs.type as string),
    ctx.timeoutMs,
    `an answer to the subscription to ${jid}`,
  );
  return r.stanza.attrs.type === 'subscribed' ? undefined : `the subscription to ${jid} was answered ${r.stanza.attrs.type}`;
}

/**
 * The state of an SfB user as a partner user sees it: the SfB user sets an availability (or
 * publishes the current one again), and the watcher must see its mapping.
 */
export const presenceCheck: CheckKindHandler<'presence'> = {
  kind: 'presence',
  title: (c) => `${c.by} sees ${c.of}${c.set ? ` ${c.set}` : ''}${c.show ? ` as ${c.show}` : ''}`,
  async run(check, ctx) {
    const watcher = await ctx.target.partnerUser(check.by);
    const jid = sfbJid(ctx, check.of);
    const refused = await ensureSubscribed(ctx, watcher, jid);
    if (refused) return { outcome: fail({ presence: 'none' }, refused) };
    const publisher = publisherOf(ctx, check.of, 'presence');
    const started = performance.now();
    // What the watcher must see: the mapping of what the user sets; for a gateway user xfed does
    // not drive, what the suite says (or any presence at all), since nothing is set.
    let want: string | undefined = check.show;
    if (publisher) {
      const availability = check.set ?? publisher.availability();
      const mapped = publisher.showMapping[availability];
      want ??= mapped.basic === 'closed' ? 'unavailable' : (mapped.show ?? 'none');
    }
    // With a publisher, only what follows the change counts. Without one, the newest presence the
    // watcher has of the user (the one that followed the subscription) is the answer.
    const newest = watcher.received().filter((r) => isPresenceOf(jid)(r.stanza)).at(-1)?.stanza;
    const before = new Set(watcher.received().filter((r) => publisher || r.stanza !== newest).map((r) => r.stanza));
    await publisher?.set(check.set ?? publisher.availability());
    // Waits for the expected state: a presence sent just before (the one that follows a fresh
    // subscription) may still be on its way, and must not be taken for the answer.
    const fits = (s: Element) => isPresenceOf(jid)(s) && !before.has(s) && (want === undefined || seenState(s) === want);
    const wait = (session: XmppUser) =>
      session
        .waitFor(fits, ctx.timeoutMs, `${check.of}'s presence`)
        .then((r) => r.stanza)
        .catch(() => session.received().filter((r) => isPresenceOf(jid)(r.stanza) && !before.has(r.stanza)).at(-1)?.stanza);
    let seen: Element | undefined;
    if (publisher) seen = await wait(watcher);
    else if (newest && fits(newest)) seen = newest;
    else {
      // Nothing came with the subscription (it was approved before): a probe asks for it.
      const prober = await ctx.target.remote!.probeFrom(check.by);
      seen = await wait(prober).finally(() => prober.stop());
    }
    const latencyMs = performance.now() - started;
    if (!seen) return { outcome: fail({ presence: 'none' }, `no presence of ${check.of} within ${ctx.timeoutMs} ms`), latencyMs };
    const state = seenState(seen);
    const status = seen.getChildText('status');
    const text = `${state}${status ? ` "${status}"` : ''}`;
    return want === undefined || state === want ? { outcome: pass(text), latencyMs } : { outcome: fail({ presence: 'mismatch' }, `saw ${text}, expected ${want}`), latencyMs };
  },
};

/**
 * Who makes an SfB user publish a presence: his SIP side in the simulation, or xfed's session as a
 * gateway's user it drives; undefined for a gateway user xfed does not drive.
 */
function publisherOf(ctx: CheckContext, user: string, kind: string): { availability(): SfbAvailability; showMapping: ShowMapping; set(a: SfbAvailability): Promise<void> } | undefined {
  const remote = ctx.target.remote;
  if (remote) {
    const driven = remote.driven(user);
    if (!driven) return undefined;
    return { availability: () => driven.availability, showMapping: DEFAULT_SHOW_MAPPING, set: (a) => driven.setAvailability(a) };
  }
  const sfb = sfbSide(ctx, kind);
  const state = () => sfb.state(user)!;
  return { availability: () => state().availability, showMapping: sfb.showMapping, set: (a) => sfb.user(user).setAvailability(a, state().note) };
}

/** No presence of the SfB user reaches the partner user, proved with a barrier. */
export const noPresenceLeakCheck: CheckKindHandler<'no-presence-leak'> = {
  kind: 'no-presence-leak',
  title: (c) => `${c.by} sees no presence of ${c.of}`,
  async run(check, ctx) {
    const watcher = await ctx.target.partnerUser(check.by);
    const jid = sfbJid(ctx, check.of);
    const mark = watcher.received().length;
    const publisher = publisherOf(ctx, check.of, 'no-presence-leak');
    if (!publisher) throw new Error(`a no-presence-leak check needs ${check.of} to publish a presence, so xfed must drive ${check.of} (target.gateway.users: login)`);
    const started = performance.now();
    await publisher.set(check.set ?? publisher.availability());
    await ctx.target.barrier(watcher, ctx.timeoutMs);
    const leaked = watcher
      .received()
      .slice(mark)
      .find((r) => isPresenceOf(jid)(r.stanza));
    const latencyMs = performance.now() - started;
    return leaked ? { outcome: fail({ presence: 'leaked' }, seenState(leaked.stanza)), latencyMs } : { outcome: pass('nothing before the barrier'), latencyMs };
  },
};
