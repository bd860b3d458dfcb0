import { z } from 'zod';
import { Duration, UserName, durationMs } from '../infra/format.js';
import { answerFrom, bodyFor, budgetWithinTimeout, defineCheck, overBudget } from './check.js';
import { fail, pass } from './expectation.js';

/**
 * An SfB user writes first: the SfB side's answer (in the simulation the SIP MESSAGE's final
 * response; for a gateway's user that xfed drives, no error before a ping through the same path),
 * then the partner user's receipt.
 */
export const imFromSfbCheck = defineCheck({
  kind: 'im-from-sfb',
  fields: { from: UserName, to: UserName, body: z.string().optional(), within: Duration.optional() },
  users: { partner: 'to', sfb: 'from' },
  // A simulated pool refuses with a SIP status; a lab user's XMPP session sees a stanza error.
  failures: { sip: [], error: [], latency: { 'over-budget': ['within'] } },
  conflicts: [budgetWithinTimeout],
  references: ['RFC 7572 section 6 (SIP to XMPP, page mode)'],
  title: (c) => `${c.from} (SfB) IMs ${c.to}`,
  sfbUserNeeds: (c) => ({ acts: `${c.from} writes first` }),
  async run(check, ctx) {
    const recipient = await ctx.target.partnerUser(check.to);
    const writer = ctx.target.sfbUser(check.from);
    const body = check.body ?? bodyFor(check.id);
    const done = new AbortController();
    const receipt = recipient.waitFor((s) => s.is('message') && s.getChildText('body') === body, ctx.timeoutMs, `${check.to} to receive the IM`, done.signal);
    receipt.catch(() => undefined);
    const started = performance.now();
    try {
      const answer = await answerFrom(writer.sendIm(recipient.bare, body, { timeoutMs: ctx.timeoutMs, signal: done.signal }));
      if (!answer.accepted) return { outcome: fail(answer.detail, answer.text), latencyMs: performance.now() - started };
      await answerFrom(receipt);
      const latencyMs = performance.now() - started;
      if (check.within !== undefined && latencyMs > durationMs(check.within)) return overBudget(latencyMs, durationMs(check.within));
      return { outcome: pass([answer.text, 'received'].filter(Boolean).join(', ')), latencyMs };
    } finally {
      done.abort();
    }
  },
});
