import { sfbDomainOf } from '../scenario/target-spec.js';
import { s2sStreamFromLog } from '../prosody/s2s-log.js';
import { fail, pass, type CheckKindHandler } from './check.js';
import { xml, stanzaError } from '../xmpp/client.js';

/**
 * A new S2S stream from the partner to the SfB domain comes up: the open streams are dropped, a
 * ping opens a new one, and the partner's log tells the TLS version and the authentication (SASL
 * EXTERNAL or dialback), so it reads a real Edge's stream as well as the simulated one's.
 */
export const s2sCheck: CheckKindHandler<'s2s'> = {
  kind: 's2s',
  title: (c, suite) => `S2S ${suite.partner.domains[0]} -> ${sfbDomainOf(suite)}${c.tls ? ` over ${c.tls}` : ''}${c.auth ? ` with ${c.auth}` : ''}`,
  async run(check, ctx) {
    const { target } = ctx;
    const partnerDomain = ctx.suite.partner.domains[0]!;
    const alice = await target.partnerUser(ctx.suite.partner.users[0]!);
    await target.renewS2s();
    const from = target.logs().partner.length;
    const started = performance.now();
    const id = `s2s-${Math.random().toString(36).slice(2)}`;
    await alice.send(xml('iq', { type: 'get', to: target.sfbDomain, id }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    const reply = (await alice.waitFor((s) => s.is('iq') && s.attrs.id === id, ctx.timeoutMs, `a ping over a new S2S stream to ${target.sfbDomain}`)).stanza;
    const latencyMs = performance.now() - started;
    if (reply.attrs.type === 'error') {
      const { condition, text } = stanzaError(reply);
      return { outcome: fail({ s2s: 'refused' }, `${condition}${text ? `: ${text}` : ''}`), latencyMs };
    }
    const { tls, auth } = await s2sStreamFromLog(() => target.logs().partner, from, { from: partnerDomain, to: target.sfbDomain }, ctx.timeoutMs);
    const seen = `${tls ?? 'no TLS'}, ${auth}`;
    if ((check.tls && check.tls !== tls) || (check.auth && check.auth !== auth)) return { outcome: fail({ s2s: 'mismatch' }, seen), latencyMs };
    return { outcome: pass(seen), latencyMs };
  },
};
