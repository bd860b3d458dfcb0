import { z } from 'zod';
import { UserName } from '../infra/format.js';
import { answerFrom, bodyFor, defineCheck } from './check.js';
import { fail, pass } from './expectation.js';

/** An IM from a partner user that must not reach the SfB user (nor echo back), proved with a barrier. */
export const noDeliveryCheck = defineCheck({
  kind: 'no-delivery',
  fields: { from: UserName, to: UserName, body: z.string().optional() },
  users: { partner: 'from', sfb: 'to', sfbPassNeedsXmpp: false },
  failures: { delivery: { delivered: [] } },
  references: ['docs/sfb-xmpp-federation.md section 6 (the migration rule)'],
  title: (c) => `${c.from}'s IM does not reach ${c.to}`,
  sfbUserNeeds: () => ({ seesIms: true }),
  async run(check, ctx) {
    const sender = await ctx.target.partnerUser(check.from);
    const recipient = ctx.target.sfbUser(check.to);
    const body = check.body ?? bodyFor(check.id);
    let delivered = false;
    const done = new AbortController();
    const received = recipient.echoes ? undefined : recipient.receivesIm(body, { timeoutMs: ctx.timeoutMs * 4, signal: done.signal });
    received?.then(() => (delivered = true)).catch(() => undefined);
    const mark = sender.mark();
    const started = performance.now();
    try {
      await sender.sendMessage(recipient.jid, body);
      await answerFrom(ctx.target.barrier(sender, ctx.timeoutMs));
      // An echo comes back before the barrier's own.
      if (recipient.echoes)
        delivered = sender.received(mark).some((r) => r.stanza.is('message') && r.stanza.attrs.type !== 'error' && r.stanza.getChildText('body') === body);
    } finally {
      done.abort();
    }
    const latencyMs = performance.now() - started;
    return delivered
      ? { outcome: fail({ delivery: 'delivered' }, `${check.to} received it`), latencyMs }
      : { outcome: pass('not delivered before the barrier'), latencyMs };
  },
});
