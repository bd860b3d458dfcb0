import { z } from 'zod';
import { UserName } from '../infra/format.js';
import { stanzaError, xml } from '../xmpp/client.js';
import { answerFrom, defineCheck, noteBounce } from './check.js';
import { fail, pass } from './expectation.js';

/** XEP-0199 ping from a partner user to the SfB domain or to an SfB user. */
export const pingCheck = defineCheck({
  kind: 'ping',
  fields: { from: UserName, to: z.string().optional().describe('An SfB user; default the SfB domain') },
  users: { partner: 'from', sfb: 'to', sfbMayBeDomain: true },
  failures: { error: [] },
  references: ['XEP-0199 (XMPP Ping)'],
  title: (c, setup) => `${c.from} pings ${c.to ?? setup.sfbDomain}`,
  async run(check, ctx) {
    const sender = await ctx.target.partnerUser(check.from);
    const to = check.to === undefined || check.to === ctx.target.sfbDomain ? ctx.target.sfbDomain : ctx.target.sfbUser(check.to).jid;
    const started = performance.now();
    const id = `ping-${Math.random().toString(36).slice(2)}`;
    await sender.send(xml('iq', { type: 'get', to, id }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    const reply = await answerFrom(sender.waitFor((s) => s.is('iq') && s.attrs.id === id, ctx.timeoutMs, `the answer to the ping of ${to}`));
    const latencyMs = performance.now() - started;
    if (reply.stanza.attrs.type === 'error') {
      const { condition, text } = stanzaError(reply.stanza);
      noteBounce(ctx, condition, text);
      return { outcome: fail({ error: condition }, text), latencyMs };
    }
    return { outcome: pass(), latencyMs };
  },
});
