import { durationMs } from '../scenario/schema.js';
import { fail, pass, sfbSide, type CheckKindHandler } from './check.js';

/** An SfB user writes first: the SIP MESSAGE's final response, then the partner user's receipt. */
export const imFromSfbCheck: CheckKindHandler<'im-from-sfb'> = {
  kind: 'im-from-sfb',
  title: (c) => `${c.from} (SfB) IMs ${c.to}`,
  async run(check, ctx) {
    const bob = await ctx.target.partnerUser(check.to);
    const body = check.body ?? `xfed ${check.id} ${Math.random().toString(36).slice(2, 8)}`;
    const started = performance.now();
    const res = await sfbSide(ctx, 'im-from-sfb').user(check.from).sendIm(bob.bare, body);
    if (res.status >= 300) return { outcome: fail({ sip: String(res.status) }, `${res.status} ${res.reason}${res.headers.get('Warning') ? ` (${res.headers.get('Warning')})` : ''}`) };
    await bob.waitFor((s) => s.is('message') && s.getChildText('body') === body, ctx.timeoutMs, `${check.to} to receive the IM`);
    const latencyMs = performance.now() - started;
    if (check.within !== undefined && latencyMs > durationMs(check.within)) {
      return { outcome: fail({ latency: 'over-budget' }, `${latencyMs.toFixed(1)} ms, over the budget of ${durationMs(check.within)} ms`), latencyMs };
    }
    return { outcome: pass(`SIP ${res.status}, received`), latencyMs };
  },
};
