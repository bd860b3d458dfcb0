import { z } from 'zod';
import { s2sStreamFromLog } from '../prosody/s2s-log.js';
import { stanzaError, xml } from '../xmpp/client.js';
import { answerFrom, defineCheck, noteBounce } from './check.js';
import { fail, pass } from './expectation.js';

/**
 * A new S2S stream from the partner to the SfB domain comes up: the open streams are dropped, a
 * ping opens a new one, and the partner's log tells the TLS version and the authentication (SASL
 * EXTERNAL or dialback), so it reads a real Edge's stream as well as the simulated one's.
 */
export const s2sCheck = defineCheck({
  kind: 's2s',
  fields: { tls: z.enum(['TLSv1.2', 'TLSv1.3']).optional(), auth: z.enum(['sasl-external', 'dialback']).optional() },
  failures: { s2s: { refused: [], mismatch: ['tls', 'auth'] } },
  references: ['RFC 6120 section 5 (STARTTLS)', 'XEP-0178 (SASL EXTERNAL for S2S)', 'XEP-0220 (dialback)', 'docs/sfb-xmpp-federation.md sections 2 and 3'],
  title: (c, setup) => `S2S ${setup.partner.domains[0]} -> ${setup.sfbDomain}${c.tls ? ` over ${c.tls}` : ''}${c.auth ? ` with ${c.auth}` : ''}`,
  async run(check, ctx) {
    const { target } = ctx;
    const partnerDomain = ctx.setup.partner.domains[0]!;
    const sender = await target.partnerUser(ctx.setup.partner.users[0]!);
    await target.renewS2s();
    const from = target.partnerLog.mark();
    const started = performance.now();
    const id = `s2s-${Math.random().toString(36).slice(2)}`;
    await sender.send(xml('iq', { type: 'get', to: target.sfbDomain, id }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    const reply = (
      await answerFrom(sender.waitFor((s) => s.is('iq') && s.attrs.id === id, ctx.timeoutMs, `a ping over a new S2S stream to ${target.sfbDomain}`))
    ).stanza;
    const latencyMs = performance.now() - started;
    if (reply.attrs.type === 'error') {
      const { condition, text } = stanzaError(reply);
      noteBounce(ctx, condition, text);
      return { outcome: fail({ s2s: 'refused' }, `${condition}${text ? `: ${text}` : ''}`), latencyMs };
    }
    const { tls, auth } = await s2sStreamFromLog(target.partnerLog, from, { from: partnerDomain, to: target.sfbDomain }, ctx.timeoutMs);
    const seen = `${tls ?? 'no TLS'}, ${auth}`;
    if ((check.tls && check.tls !== tls) || (check.auth && check.auth !== auth)) return { outcome: fail({ s2s: 'mismatch' }, seen), latencyMs };
    return { outcome: pass(seen), latencyMs };
  },
});
