import { sfbDomainOf } from '../scenario/target-spec.js';
import { fail, pass, sfbJid, type CheckKindHandler } from './check.js';
import { xml, stanzaError } from '../xmpp/client.js';

const DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/** XEP-0030 disco#info of the SfB domain or of an SfB user, optionally requiring a feature. */
export const discoCheck: CheckKindHandler<'disco'> = {
  kind: 'disco',
  title: (c, suite) => `${c.from} discovers ${c.to ?? sfbDomainOf(suite)}${c.feature ? ` (${c.feature})` : ''}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const to = check.to === undefined || check.to === ctx.target.sfbDomain ? ctx.target.sfbDomain : sfbJid(ctx, check.to);
    const started = performance.now();
    const id = `disco-${Math.random().toString(36).slice(2)}`;
    await alice.send(xml('iq', { type: 'get', to, id }, xml('query', { xmlns: DISCO_INFO })));
    const reply = (await alice.waitFor((s) => s.is('iq') && s.attrs.id === id, ctx.timeoutMs, `the disco#info answer of ${to}`)).stanza;
    const latencyMs = performance.now() - started;
    if (reply.attrs.type === 'error') {
      const { condition, text } = stanzaError(reply);
      return { outcome: fail({ error: condition }, text), latencyMs };
    }
    const query = reply.getChild('query', DISCO_INFO);
    const features = (query?.getChildren('feature') ?? []).map((f) => String(f.attrs.var));
    const identities = (query?.getChildren('identity') ?? []).map((i) => `${i.attrs.category}/${i.attrs.type}`);
    const seen = `identities ${identities.join(', ') || 'none'}; features ${features.join(', ') || 'none'}`;
    if (check.feature && !features.includes(check.feature)) return { outcome: fail({ disco: 'missing-feature' }, seen), latencyMs };
    return { outcome: pass(seen), latencyMs };
  },
};
