import { durationMs } from '../scenario/schema.js';
import { stanzaError } from '../xmpp/client.js';
import { fail, pass, sfbSide, type CheckKindHandler } from './check.js';

/**
 * An SfB user writes first: in the simulation the SIP MESSAGE's final response, then the partner
 * user's receipt; a gateway's user that xfed drives writes over XMPP, and the receipt decides.
 */
export const imFromSfbCheck: CheckKindHandler<'im-from-sfb'> = {
  kind: 'im-from-sfb',
  title: (c) => `${c.from} (SfB) IMs ${c.to}`,
  async run(check, ctx) {
    const bob = await ctx.target.partnerUser(check.to);
    const body = check.body ?? `xfed ${check.id} ${Math.random().toString(36).slice(2, 8)}`;
    const started = performance.now();
    let sent: string;
    const remote = ctx.target.remote;
    if (remote) {
      const driven = remote.driven(check.from);
      if (!driven) throw new Error(`an im-from-sfb check needs ${check.from} to be driven by xfed (target.gateway.users: login)`);
      const id = await driven.user.sendMessage(bob.bare, body);
      // The receipt or an error, whichever comes first; the other wait ends with it.
      const done = new AbortController();
      const receipt = bob.waitFor((s) => s.is('message') && s.getChildText('body') === body, ctx.timeoutMs, `${check.to} to receive the IM`, done.signal).then(() => undefined);
      const error = driven.user.waitFor((s) => s.attrs.type === 'error' && s.attrs.id === id, ctx.timeoutMs + 1_000, 'an error for the IM', done.signal).then((r) => r.stanza);
      error.catch(() => undefined);
      receipt.catch(() => undefined);
      const arrived = await Promise.race([receipt, error]).finally(() => done.abort());
      if (arrived) {
        const { condition, text } = stanzaError(arrived);
        return { outcome: fail({ error: condition }, text), latencyMs: performance.now() - started };
      }
      sent = 'received';
    } else {
      const res = await sfbSide(ctx, 'im-from-sfb').user(check.from).sendIm(bob.bare, body);
      if (res.status >= 300) return { outcome: fail({ sip: String(res.status) }, `${res.status} ${res.reason}${res.headers.get('Warning') ? ` (${res.headers.get('Warning')})` : ''}`) };
      await bob.waitFor((s) => s.is('message') && s.getChildText('body') === body, ctx.timeoutMs, `${check.to} to receive the IM`);
      sent = `SIP ${res.status}, received`;
    }
    const latencyMs = performance.now() - started;
    if (check.within !== undefined && latencyMs > durationMs(check.within)) {
      return { outcome: fail({ latency: 'over-budget' }, `${latencyMs.toFixed(1)} ms, over the budget of ${durationMs(check.within)} ms`), latencyMs };
    }
    return { outcome: pass(sent), latencyMs };
  },
};
