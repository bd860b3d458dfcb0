import { UserName } from '../infra/format.js';
import { bareOf, stanzaError, type Element } from '../xmpp/client.js';
import { answerFrom, defineCheck, noteBounce } from './check.js';
import { fail, pass } from './expectation.js';

/**
 * A partner user asks for an SfB user's presence: subscribed (pass), unsubscribed, an error, or
 * pending (nothing before a barrier through the same path).
 */
export const subscribeCheck = defineCheck({
  kind: 'subscribe',
  fields: { from: UserName, to: UserName },
  users: { partner: 'from', sfb: 'to' },
  failures: { subscription: { pending: [], unsubscribed: [] }, error: [] },
  references: ['RFC 8048 section 4 (subscriptions)', 'RFC 6121 section 3', 'docs/sfb-xmpp-federation.md section 3 (partner types)'],
  title: (c) => `${c.from} subscribes to ${c.to}`,
  async run(check, ctx) {
    const watcher = await ctx.target.partnerUser(check.from);
    const contact = ctx.target.sfbUser(check.to);
    const to = contact.jid;
    const mark = watcher.mark();
    const started = performance.now();
    const startedAt = Date.now();
    await watcher.sendPresence({ to, type: 'subscribe' });
    const answered = (s: Element) =>
      s.is('presence') && bareOf(s.attrs.from as string) === to && ['subscribed', 'unsubscribed', 'error'].includes(s.attrs.type as string);
    // A user who answers from his own session does so in no order with a barrier through another
    // user: his answer is awaited. Otherwise silence before the barrier is the answer (pending).
    const awaited = contact.answersSubscriptionsHimself;
    if (awaited) await watcher.waitFor(answered, ctx.timeoutMs, `an answer from ${to}`).catch(() => undefined);
    else await answerFrom(ctx.target.barrier(watcher, ctx.timeoutMs));
    const answer = watcher.received(mark).find((r) => answered(r.stanza))?.stanza;
    const latencyMs = performance.now() - started;
    if (
      !answer &&
      watcher
        .received()
        .filter((r) => r.at < startedAt)
        .some((r) => answered(r.stanza) && r.stanza.attrs.type === 'subscribed')
    )
      // Subscribed before: his server keeps a second 'subscribed' to itself (RFC 6121 3.1.5).
      ctx.target.behaviours?.cite('partner-server.repeated-subscribed-kept');
    if (!answer) {
      // What was seen, and where the answer may have been lost (a way back the Edge never opened).
      const seen = `the subscribe left ${watcher.bare} for ${to}; no subscribed, unsubscribed or error came back ${awaited ? `within ${ctx.timeoutMs} ms` : 'before the barrier'}`;
      const diagnosis = ctx.target.diagnose();
      return { outcome: fail({ subscription: 'pending' }, seen), latencyMs, ...(diagnosis ? { diagnosis } : {}) };
    }
    if (answer.attrs.type === 'subscribed') return { outcome: pass('subscribed'), latencyMs };
    if (answer.attrs.type === 'unsubscribed') return { outcome: fail({ subscription: 'unsubscribed' }), latencyMs };
    const { condition, text } = stanzaError(answer);
    noteBounce(ctx, condition, text);
    return { outcome: fail({ error: condition }, text), latencyMs };
  },
  // Subscribed once, the watcher's server keeps a second 'subscribed' to itself (RFC 6121 3.1.5), so
  // a repeated subscribe would always look pending: a watch has the watcher unsubscribe after each
  // run. Right after, not before the next run: the contact's server answers the unsubscribe with an
  // 'unsubscribed' in no order with anything else, and one that arrived after the next subscribe
  // would cancel it (RFC 6121 3.2.3); by the next round it has long arrived.
  async afterRun(check, ctx) {
    const watcher = await ctx.target.partnerUser(check.from);
    await watcher.sendPresence({ to: ctx.target.sfbUser(check.to).jid, type: 'unsubscribe' });
    await ctx.target.barrier(watcher, ctx.timeoutMs);
  },
});
