import { stanzaError } from '../xmpp/client.js';
import { durationMs } from '../scenario/schema.js';
import { fail, pass, sfbJid, sfbSide, type CheckKindHandler } from './check.js';

/**
 * A partner user IMs an SfB user. Delivered means the echo came back (echo users) or the SfB user
 * received it over SIP (others); a stanza error is the outcome otherwise.
 */
export const imCheck: CheckKindHandler<'im'> = {
  kind: 'im',
  title: (c) => `${c.from} IMs ${c.to}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const to = sfbJid(ctx, check.to);
    const tag = `xfed ${check.id} ${Math.random().toString(36).slice(2, 8)}`;
    const body = check.size !== undefined ? `${tag} `.padEnd(check.size, 'x') : (check.body ?? tag);
    const sfb = sfbSide(ctx, 'im');
    const user = sfb.state(check.to);
    const echoes = user?.behaviour === 'echo';
    const received = echoes
      ? undefined
      : sfb.waitForEvent(
          (e) => e.kind === 'im' && e.user.toLowerCase() === check.to.toLowerCase() && e.body === body && (e.status === undefined || e.status < 300),
          ctx.timeoutMs,
          `${check.to} to receive the IM`,
        );
    received?.catch(() => undefined);
    const started = performance.now();
    const id = await alice.sendMessage(to, body);
    const answer = alice
      .waitFor((s) => (s.attrs.type === 'error' && s.attrs.id === id) || (echoes && s.getChildText('body') === body), ctx.timeoutMs, `the echo of ${to} or an error`)
      .then((r) => r.stanza);
    const first = await Promise.race([answer, ...(received ? [received.then(() => undefined)] : [])]);
    const latencyMs = performance.now() - started;
    if (first?.attrs.type === 'error') {
      const { condition, text } = stanzaError(first);
      return { outcome: fail({ error: condition }, text), latencyMs };
    }
    answer.catch(() => undefined);
    if (check.within !== undefined && latencyMs > durationMs(check.within)) {
      return { outcome: fail({ latency: 'over-budget' }, `${latencyMs.toFixed(1)} ms, over the budget of ${durationMs(check.within)} ms`), latencyMs };
    }
    return { outcome: pass(echoes ? 'echoed' : `received by ${check.to}`), latencyMs };
  },
};
