import { bareOf, type Element, type XmppUser } from '../xmpp/client.js';
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
    const sfb = sfbSide(ctx, 'presence');
    const user = sfb.state(check.of)!;
    const availability = check.set ?? user.availability;
    const mapped = sfb.showMapping[availability];
    const want = check.show ?? (mapped.basic === 'closed' ? 'unavailable' : (mapped.show ?? 'none'));
    const before = new Set(watcher.received().map((r) => r.stanza));
    const started = performance.now();
    await sfb.user(check.of).setAvailability(availability, user.note);
    // Waits for the expected state: a presence sent just before (the one that follows a fresh
    // subscription) may still be on its way, and must not be taken for the answer.
    const seen = await watcher
      .waitFor((s) => isPresenceOf(jid)(s) && !before.has(s) && seenState(s) === want, ctx.timeoutMs, `${check.of}'s presence`)
      .then((r) => r.stanza)
      .catch(() => watcher.received().filter((r) => isPresenceOf(jid)(r.stanza) && !before.has(r.stanza)).at(-1)?.stanza);
    const latencyMs = performance.now() - started;
    if (!seen) return { outcome: fail({ presence: 'none' }, `no presence of ${check.of} within ${ctx.timeoutMs} ms`), latencyMs };
    const state = seenState(seen);
    const status = seen.getChildText('status');
    const text = `${state}${status ? ` "${status}"` : ''}`;
    return state === want ? { outcome: pass(text), latencyMs } : { outcome: fail({ presence: 'mismatch' }, `saw ${text}, expected ${want}`), latencyMs };
  },
};

/** No presence of the SfB user reaches the partner user, proved with a barrier. */
export const noPresenceLeakCheck: CheckKindHandler<'no-presence-leak'> = {
  kind: 'no-presence-leak',
  title: (c) => `${c.by} sees no presence of ${c.of}`,
  async run(check, ctx) {
    const watcher = await ctx.target.partnerUser(check.by);
    const jid = sfbJid(ctx, check.of);
    const mark = watcher.received().length;
    const sfb = sfbSide(ctx, 'no-presence-leak');
    const user = sfb.state(check.of)!;
    const started = performance.now();
    await sfb.user(check.of).setAvailability(check.set ?? user.availability, user.note);
    await ctx.target.barrier(watcher, ctx.timeoutMs);
    const leaked = watcher
      .received()
      .slice(mark)
      .find((r) => isPresenceOf(jid)(r.stanza));
    const latencyMs = performance.now() - started;
    return leaked ? { outcome: fail({ presence: 'leaked' }, seenState(leaked.stanza)), latencyMs } : { outcome: pass('nothing before the barrier'), latencyMs };
  },
};
