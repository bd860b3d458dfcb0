import { stanzaError } from '../xmpp/client.js';
import { durationMs } from '../scenario/schema.js';
import { echoes, fail, pass, sfbJid, watchIms, type CheckKindHandler } from './check.js';

/**
 * A partner user IMs an SfB user. Delivered means the echo came back (echo users) or the SfB user
 * received it (over SIP in the simulation, in his XMPP session where xfed drives a gateway's user);
 * a stanza error is the outcome otherwise.
 */
export const imCheck: CheckKindHandler<'im'> = {
  kind: 'im',
  title: (c) => `${c.from} IMs ${c.to}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const to = sfbJid(ctx, check.to);
    const tag = `xfed ${check.id} ${Math.random().toString(36).slice(2, 8)}`;
    const body = check.size !== undefined ? `${tag} `.padEnd(check.size, 'x') : (check.body ?? tag);
    const echoed = echoes(ctx, check.to, 'im');
    // Delivery to a user who does not echo is seen on his side: SIP (sim) or his XMPP session (gateway).
    const watch = echoed ? undefined : watchIms(ctx, check.to, body, 'im');
    watch?.received.catch(() => undefined);
    const started = performance.now();
    const id = await alice.sendMessage(to, body);
    const answer = alice
      .waitFor((s) => (s.attrs.type === 'error' && s.attrs.id === id) || (echoed && s.getChildText('body') === body), ctx.timeoutMs, `the echo of ${to} or an error`)
      .then((r) => r.stanza);
    const first = await Promise.race([answer, ...(watch ? [watch.received.then(() => undefined)] : [])]).finally(() => watch?.stop());
    const latencyMs = performance.now() - started;
    if (first?.attrs.type === 'error') {
      const { condition, text } = stanzaError(first);
      return { outcome: fail({ error: condition }, text), latencyMs };
    }
    answer.catch(() => undefined);
    if (check.within !== undefined && latencyMs > durationMs(check.within)) {
      return { outcome: fail({ latency: 'over-budget' }, `${latencyMs.toFixed(1)} ms, over the budget of ${durationMs(check.within)} ms`), latencyMs };
    }
    return { outcome: pass(echoed ? 'echoed' : `received by ${check.to}`), latencyMs };
  },
};
