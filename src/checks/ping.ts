import { sfbDomainOf } from '../scenario/target-spec.js';
import { fail, pass, sfbJid, type CheckKindHandler } from './check.js';
import { xml, stanzaError } from '../xmpp/client.js';

/** XEP-0199 ping from a partner user to the SfB domain or to an SfB user. */
export const pingCheck: CheckKindHandler<'ping'> = {
  kind: 'ping',
  title: (c, suite) => `${c.from} pings ${c.to ?? sfbDomainOf(suite)}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const to = check.to === undefined || check.to === ctx.target.sfbDomain ? ctx.target.sfbDomain : sfbJid(ctx, check.to);
    const started = performance.now();
    const id = `ping-${Math.random().toString(36).slice(2)}`;
    await alice.send(xml('iq', { type: 'get', to, id }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    const reply = await alice.waitFor((s) => s.is('iq') && s.attrs.id === id, ctx.timeoutMs, `the answer to the ping of ${to}`);
    const latencyMs = performance.now() - started;
    if (reply.stanza.attrs.type === 'error') {
      const { condition, text } = stanzaError(reply.stanza);
      return { outcome: fail({ error: condition }, text), latencyMs };
    }
    return { outcome: pass(), latencyMs };
  },
};
