import { z } from 'zod';
import { UserName } from '../infra/format.js';
import { stanzaError, xml } from '../xmpp/client.js';
import { answerFrom, defineCheck, noteBounce } from './check.js';
import { fail, pass } from './expectation.js';

const DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/** XEP-0030 disco#info of the SfB domain or of an SfB user, optionally requiring a feature. */
export const discoCheck = defineCheck({
  kind: 'disco',
  fields: { from: UserName, to: z.string().optional(), feature: z.string().optional() },
  users: { partner: 'from', sfb: 'to', sfbMayBeDomain: true },
  failures: { error: [], disco: { 'missing-feature': ['feature'] } },
  references: ['XEP-0030 (Service Discovery) section 3'],
  title: (c, setup) => `${c.from} discovers ${c.to ?? setup.sfbDomain}${c.feature ? ` (${c.feature})` : ''}`,
  async run(check, ctx) {
    const sender = await ctx.target.partnerUser(check.from);
    const to = check.to === undefined || check.to === ctx.target.sfbDomain ? ctx.target.sfbDomain : ctx.target.sfbUser(check.to).jid;
    const started = performance.now();
    const id = `disco-${Math.random().toString(36).slice(2)}`;
    await sender.send(xml('iq', { type: 'get', to, id }, xml('query', { xmlns: DISCO_INFO })));
    const reply = (await answerFrom(sender.waitFor((s) => s.is('iq') && s.attrs.id === id, ctx.timeoutMs, `the disco#info answer of ${to}`))).stanza;
    const latencyMs = performance.now() - started;
    if (reply.attrs.type === 'error') {
      const { condition, text } = stanzaError(reply);
      noteBounce(ctx, condition, text);
      return { outcome: fail({ error: condition }, text), latencyMs };
    }
    const query = reply.getChild('query', DISCO_INFO);
    const features = (query?.getChildren('feature') ?? []).map((f) => String(f.attrs.var));
    const identities = (query?.getChildren('identity') ?? []).map((i) => `${i.attrs.category}/${i.attrs.type}`);
    const seen = `identities ${identities.join(', ') || 'none'}; features ${features.join(', ') || 'none'}`;
    if (check.feature && !features.includes(check.feature)) return { outcome: fail({ disco: 'missing-feature' }, seen), latencyMs };
    return { outcome: pass(seen), latencyMs };
  },
});
