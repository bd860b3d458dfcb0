import { z } from 'zod';
import { UserName } from '../infra/format.js';
import { SfbAvailability } from '../sfb/availability.js';
import { bareOf, stanzaError, type Element, type XmppUser } from '../xmpp/client.js';
import { answerFrom, type CheckContext, defineCheck } from './check.js';
import { fail, pass } from './expectation.js';

/** What a watcher saw of a presence stanza: `unavailable`, a show value, or `none` (plain available). */
function seenState(p: Element): string {
  if (p.attrs.type === 'unavailable') return 'unavailable';
  return p.getChildText('show') ?? 'none';
}

/** A seen state as a reader takes it: `none` is a presence (available, without <show/>), not the absence of one. */
const shown = (state: string): string => (state === 'none' ? 'available (no <show/>)' : state);

const isPresenceOf = (jid: string) => (s: Element) =>
  s.is('presence') && bareOf(s.attrs.from as string) === jid && (s.attrs.type === undefined || s.attrs.type === 'unavailable');

const isAnswerOf = (jid: string) => (s: Element) =>
  s.is('presence') && bareOf(s.attrs.from as string) === jid && ['subscribed', 'unsubscribed'].includes(s.attrs.type as string);

/** Why a watcher cannot see the user's presence, as an outcome; undefined when he may. */
type NoSubscription = { detail: Record<string, string>; text: string };

/**
 * Makes sure `watcher` is subscribed to the SfB user, subscribing first when he never was. A
 * subscription the SfB side revoked (`unsubscribed` after `subscribed`: the user moved to a pool
 * without XMPP, say) is the outcome: an existing watcher has lost the user, and must see it.
 */
async function ensureSubscribed(ctx: CheckContext, watcher: XmppUser, jid: string): Promise<NoSubscription | undefined> {
  const last = watcher
    .received()
    .filter((r) => isAnswerOf(jid)(r.stanza))
    .at(-1)?.stanza;
  if (last?.attrs.type === 'subscribed') return undefined;
  if (last) return { detail: { subscription: 'unsubscribed' }, text: `the subscription to ${jid} was revoked (unsubscribed)` };
  await watcher.sendPresence({ to: jid, type: 'subscribe' });
  const r = await answerFrom(
    watcher.waitFor(
      (s) => isAnswerOf(jid)(s) || (s.is('presence') && s.attrs.type === 'error' && bareOf(s.attrs.from as string) === jid),
      ctx.timeoutMs,
      `an answer to the subscription to ${jid}`,
    ),
  );
  if (r.stanza.attrs.type === 'subscribed') return undefined;
  if (r.stanza.attrs.type === 'unsubscribed') return { detail: { subscription: 'unsubscribed' }, text: `the subscription to ${jid} was refused` };
  const { condition, text } = stanzaError(r.stanza);
  return { detail: { error: condition }, text: text ?? `the subscription to ${jid} was answered with ${condition}` };
}

/**
 * The state of an SfB user as a partner user sees it: the SfB user sets an availability (or
 * publishes the current one again), and the watcher must see its mapping. Where xfed cannot make
 * the user publish (a gateway's user it does not drive), the presence that came with the
 * subscription, or with a probe, is the answer.
 */
export const presenceCheck = defineCheck({
  kind: 'presence',
  fields: {
    of: UserName.describe('The SfB user'),
    by: UserName.describe('The partner user who watches'),
    set: SfbAvailability.optional().describe('Availability the SfB user sets first'),
    show: z.enum(['chat', 'away', 'xa', 'dnd', 'none', 'unavailable']).optional().describe('What the watcher must see (default: the mapping of `set`)'),
  },
  users: { partner: 'by', sfb: 'of' },
  failures: { error: [], subscription: { unsubscribed: [] }, presence: { none: [], mismatch: [] } },
  references: ['RFC 8048 section 5 (presence: PIDF and XMPP)', 'docs/sfb-xmpp-federation.md section 5 (availability)'],
  title: (c) => `${c.by} sees ${c.of}${c.set ? ` ${c.set}` : ''}${c.show ? ` as ${shown(c.show)}` : ''}`,
  sfbUserNeeds: (c) => (c.set ? { acts: `${c.of} sets ${c.set}` } : undefined),
  async run(check, ctx) {
    const watcher = await ctx.target.partnerUser(check.by);
    const user = ctx.target.sfbUser(check.of);
    const jid = user.jid;
    const refused = await ensureSubscribed(ctx, watcher, jid);
    if (refused) return { outcome: fail(refused.detail, refused.text) };
    const now = user.presence();
    const started = performance.now();
    // What the watcher must see: the mapping of what the user sets; for a user xfed cannot make
    // publish, what the suite says (or any presence at all), since nothing is set.
    let want: string | undefined = check.show;
    if (now) {
      const mapped = user.showMapping[check.set ?? now.availability];
      want ??= mapped.basic === 'closed' ? 'unavailable' : (mapped.show ?? 'none');
    }
    // With a publisher, only what follows the change counts. Without one, the newest presence the
    // watcher has of the user (the one that followed the subscription) is the answer.
    const newest = watcher
      .received()
      .filter((r) => isPresenceOf(jid)(r.stanza))
      .at(-1)?.stanza;
    const before = new Set(
      watcher
        .received()
        .filter((r) => now || r.stanza !== newest)
        .map((r) => r.stanza),
    );
    if (now) await user.setAvailability(check.set ?? now.availability, now.note);
    // Waits for the expected state: a presence sent just before (the one that follows a fresh
    // subscription) may still be on its way, and must not be taken for the answer.
    const revoked = (s: Element) => s.is('presence') && s.attrs.type === 'unsubscribed' && bareOf(s.attrs.from as string) === jid && !before.has(s);
    const fits = (s: Element) => revoked(s) || (isPresenceOf(jid)(s) && !before.has(s) && (want === undefined || seenState(s) === want));
    const wait = (session: XmppUser) =>
      session
        .waitFor(fits, ctx.timeoutMs, `${check.of}'s presence`)
        .then((r) => r.stanza)
        .catch(
          () =>
            session
              .received()
              .filter((r) => isPresenceOf(jid)(r.stanza) && !before.has(r.stanza))
              .at(-1)?.stanza,
        );
    let seen: Element | undefined;
    if (now) seen = await wait(watcher);
    else if (newest && fits(newest)) seen = newest;
    else {
      // Nothing came with the subscription (it was approved before): a probe asks for it.
      const prober = await ctx.target.partnerSession(check.by);
      seen = await wait(prober).finally(() => prober.stop());
    }
    const latencyMs = performance.now() - started;
    if (!seen) return { outcome: fail({ presence: 'none' }, `no presence of ${check.of} within ${ctx.timeoutMs} ms`), latencyMs };
    if (revoked(seen)) return { outcome: fail({ subscription: 'unsubscribed' }, `the subscription to ${jid} was revoked (unsubscribed)`), latencyMs };
    const state = seenState(seen);
    const status = seen.getChildText('status');
    const text = `${shown(state)}${status ? ` "${status}"` : ''}`;
    return want === undefined || state === want
      ? { outcome: pass(text), latencyMs }
      : { outcome: fail({ presence: 'mismatch' }, `saw ${text}, expected ${shown(want)}`), latencyMs };
  },
});

/** No presence of the SfB user reaches the partner user, proved with a barrier. */
export const noPresenceLeakCheck = defineCheck({
  kind: 'no-presence-leak',
  fields: { of: UserName, by: UserName, set: SfbAvailability.optional() },
  users: { partner: 'by', sfb: 'of', sfbPassNeedsXmpp: false },
  failures: { presence: { leaked: [] } },
  references: ['RFC 6121 section 4.2.2 (presence goes to approved subscribers only)', 'docs/sfb-xmpp-federation.md section 6'],
  title: (c) => `${c.by} sees no presence of ${c.of}`,
  sfbUserNeeds: (c) => ({ acts: `${c.of} publishes a presence` }),
  async run(check, ctx) {
    const watcher = await ctx.target.partnerUser(check.by);
    const user = ctx.target.sfbUser(check.of);
    const jid = user.jid;
    const mark = watcher.mark();
    const started = performance.now();
    const now = user.presence();
    await user.setAvailability(check.set ?? now?.availability ?? 'Available', now?.note);
    await answerFrom(ctx.target.barrier(watcher, ctx.timeoutMs));
    const leaked = watcher.received(mark).find((r) => isPresenceOf(jid)(r.stanza));
    const latencyMs = performance.now() - started;
    return leaked ? { outcome: fail({ presence: 'leaked' }, seenState(leaked.stanza)), latencyMs } : { outcome: pass('nothing before the barrier'), latencyMs };
  },
});
