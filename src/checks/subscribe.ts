import { fail, pass, sfbJid, type CheckKindHandler } from './check.js';
import { bareOf, stanzaError } from '../xmpp/client.js';

/**
 * A partner user asks for an SfB user's presence: subscribed (pass), unsubscribed, an error, or
 * pending (nothing before a barrier through the same path).
 */
export const subscribeCheck: CheckKindHandler<'subscribe'> = {
  kind: 'subscribe',
  title: (c) => `${c.from} subscribes to ${c.to}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const to = sfbJid(ctx, check.to);
    const mark = alice.received().length;
    const started = performance.now();
    await alice.sendPresence({ to, type: 'subscribe' });
    const answered = (s: import('../xmpp/client.js').Element) =>
      s.is('presence') && bareOf(s.attrs.from as string) === to && ['subscribed', 'unsubscribed', 'error'].includes(s.attrs.type as string);
    // A gateway's user who answers subscriptions does so in his own session, in no order with a
    // barrier through another user: his answer is awaited. Otherwise silence before the barrier
    // is the answer (pending).
    const answers = ctx.target.remote && ctx.target.remote.role(check.to) !== 'none';
    if (answers) await alice.waitFor(answered, ctx.timeoutMs, `an answer from ${to}`).catch(() => undefined);
    else await ctx.target.barrier(alice, ctx.timeoutMs);
    const answer = alice.received().slice(mark).find((r) => answered(r.stanza))?.stanza;
    const latencyMs = performance.now() - started;
    if (!answer) return { outcome: fail({ subscription: 'pending' }, answers ? `no answer within ${ctx.timeoutMs} ms` : 'no answer before the barrier'), latencyMs };
    if (answer.attrs.type === 'subscribed') return { outcome: pass('subscribed'), latencyMs };
    if (answer.attrs.type === 'unsubscribed') return { outcome: fail({ subscription: 'unsubscribed' }), latencyMs };
    const { condition, text } = stanzaError(answer);
    return { outcome: fail({ error: condition }, text), latencyMs };
  },
};
