import { pollUntil } from '../infra/deadline.js';
import { fail, pass, type CheckKindHandler } from './check.js';
import { xml, stanzaError } from '../xmpp/client.js';

/**
 * A new S2S stream from the partner to the SfB domain comes up: the open streams are dropped, a
 * ping opens a new one, and the servers' logs tell the TLS version and the authentication (the
 * Edge logs SASL EXTERNAL identities; an authenticated stream without one used dialback).
 */
export const s2sCheck: CheckKindHandler<'s2s'> = {
  kind: 's2s',
  title: (c, suite) => `S2S ${suite.partner.domains[0]} -> ${suite.target.sim.domain}${c.tls ? ` over ${c.tls}` : ''}${c.auth ? ` with ${c.auth}` : ''}`,
  async run(check, ctx) {
    const { target } = ctx;
    const partnerDomain = ctx.suite.partner.domains[0]!;
    const alice = await target.partnerUser(ctx.suite.partner.users[0]!);
    await target.renewS2s();
    const from = { partner: target.logs().partner.length, edge: target.logs().edge.length };
    const started = performance.now();
    const id = `s2s-${Math.random().toString(36).slice(2)}`;
    await alice.send(xml('iq', { type: 'get', to: target.sfbDomain, id }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    const reply = (await alice.waitFor((s) => s.is('iq') && s.attrs.id === id, ctx.timeoutMs, `a ping over a new S2S stream to ${target.sfbDomain}`)).stanza;
    const latencyMs = performance.now() - started;
    if (reply.attrs.type === 'error') {
      const { condition, text } = stanzaError(reply);
      return { outcome: fail({ s2s: 'refused' }, `${condition}${text ? `: ${text}` : ''}`), latencyMs };
    }
    // Container logs arrive through Docker's log stream: wait (bounded) for the Edge's line.
    const edgeLines = await pollUntil(
      () => {
        const lines = target.logs().edge.slice(from.edge);
        return lines.some((l) => new RegExp(`Incoming s2s connection ${partnerDomain.replace(/\./g, '\\.')}->`).test(l)) ? lines : undefined;
      },
      { timeoutMs: ctx.timeoutMs, what: `the Edge to log the incoming stream from ${partnerDomain}` },
    );
    const tls = /Stream encrypted \((TLSv[\d.]+)/.exec(target.logs().partner.slice(from.partner).find((l) => /s2sout.*Stream encrypted/.test(l)) ?? '')?.[1] ?? 'none';
    const auth = edgeLines.some((l) => l.includes(`Accepting SASL EXTERNAL identity from ${partnerDomain}`)) ? 'sasl-external' : 'dialback';
    const seen = `${tls === 'none' ? 'no TLS' : tls}, ${auth}`;
    if ((check.tls && check.tls !== tls) || (check.auth && check.auth !== auth)) return { outcome: fail({ s2s: 'mismatch' }, seen), latencyMs };
    return { outcome: pass(seen), latencyMs };
  },
};
