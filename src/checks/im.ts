import { z } from 'zod';
import { Duration, UserName, durationMs } from '../infra/format.js';
import { stanzaError } from '../xmpp/client.js';
import { answerFrom, bodyFor, budgetWithinTimeout, defineCheck, noteBounce, overBudget } from './check.js';
import { fail, pass } from './expectation.js';

/**
 * A partner user IMs an SfB user. Delivered means the echo came back (echo users) or the SfB user
 * received it (over SIP in the simulation, in his XMPP session where xfed drives a gateway's user);
 * a stanza error is the outcome otherwise.
 */
export const imCheck = defineCheck({
  kind: 'im',
  fields: {
    from: UserName,
    to: UserName,
    body: z.string().optional(),
    size: z.number().int().positive().max(100_000).optional().describe('Send a generated body of this many bytes (long-text checks)'),
    within: Duration.optional().describe('Latency budget of the round trip'),
  },
  users: { partner: 'from', sfb: 'to' },
  failures: { error: [], latency: { 'over-budget': ['within'] } },
  conflicts: [
    budgetWithinTimeout,
    {
      at: 'body',
      why: (c) =>
        c.body !== undefined && c.size !== undefined ? 'body and size both give the body: size generates one of that many bytes; keep one' : undefined,
    },
  ],
  references: ['RFC 7572 section 5 (XMPP to SIP, page mode)', 'RFC 6121 section 5 (messages)'],
  title: (c) => `${c.from} IMs ${c.to}`,
  sfbUserNeeds: () => ({ seesIms: true }),
  async run(check, ctx) {
    const sender = await ctx.target.partnerUser(check.from);
    const recipient = ctx.target.sfbUser(check.to);
    const to = recipient.jid;
    const tag = bodyFor(check.id);
    const body = check.size !== undefined ? `${tag} `.padEnd(check.size, 'x') : (check.body ?? tag);
    // Delivery to a user who does not echo is seen on his side: SIP (sim) or his XMPP session (gateway).
    const done = new AbortController();
    const received = recipient.echoes ? undefined : recipient.receivesIm(body, { timeoutMs: ctx.timeoutMs + 1_000, signal: done.signal });
    received?.catch(() => undefined);
    const started = performance.now();
    const id = await sender.sendMessage(to, body);
    const answer = sender
      .waitFor(
        (s) => (s.attrs.type === 'error' && s.attrs.id === id) || (recipient.echoes && s.getChildText('body') === body),
        ctx.timeoutMs,
        `the echo of ${to} or an error`,
        done.signal,
      )
      .then((r) => r.stanza);
    answer.catch(() => undefined);
    const first = await answerFrom(Promise.race([answer, ...(received ? [received.then(() => undefined)] : [])])).finally(() => done.abort());
    const latencyMs = performance.now() - started;
    if (first?.attrs.type === 'error') {
      const { condition, text } = stanzaError(first);
      noteBounce(ctx, condition, text);
      return { outcome: fail({ error: condition }, text), latencyMs };
    }
    if (check.within !== undefined && latencyMs > durationMs(check.within)) return overBudget(latencyMs, durationMs(check.within));
    return { outcome: pass(recipient.echoes ? 'echoed' : `received by ${check.to}`), latencyMs };
  },
});
