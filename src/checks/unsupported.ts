import { z } from 'zod';
import { UserName } from '../infra/format.js';
import { stanzaError, xml, type Element } from '../xmpp/client.js';
import { answerFrom, defineCheck } from './check.js';
import { fail, pass } from './expectation.js';

const FEATURES = ['groupchat', 'muc-invitation', 'file-transfer', 'jingle', 'xhtml-only'] as const;
type Feature = (typeof FEATURES)[number];

/** The stanza a partner client sends to use a feature SfB's gateway does not support. */
function attempt(feature: Feature, from: string, to: string, id: string): Element {
  switch (feature) {
    case 'groupchat':
      return xml('message', { type: 'groupchat', to, id }, xml('body', {}, 'room talk'));
    case 'muc-invitation':
      return xml('message', { to, id }, xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, xml('invite', { from })));
    case 'file-transfer':
      return xml(
        'iq',
        { type: 'set', to: `${to}/xfed`, id },
        xml('si', { xmlns: 'http://jabber.org/protocol/si', id: 'f1', profile: 'http://jabber.org/protocol/si/profile/file-transfer' }),
      );
    case 'jingle':
      return xml('iq', { type: 'set', to: `${to}/xfed`, id }, xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action: 'session-initiate', sid: 's1' }));
    case 'xhtml-only':
      return xml('message', { to, id }, xml('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' }));
  }
}

/** A feature the gateway does not support gets a clear stanza error, never silence. */
export const unsupportedCheck = defineCheck({
  kind: 'unsupported',
  fields: { from: UserName, to: UserName, feature: z.enum(FEATURES) },
  users: { partner: 'from', sfb: 'to', sfbPassNeedsXmpp: false },
  failures: { error: [] },
  defaultExpectation: { error: '*' },
  references: ['docs/sfb-xmpp-federation.md section 1 (only 1:1 IM and presence cross the gateway)', 'RFC 6120 section 8.3 (stanza errors)'],
  title: (c) => `${c.from} tries ${c.feature} with ${c.to}`,
  async run(check, ctx) {
    const sender = await ctx.target.partnerUser(check.from);
    const id = `unsupported-${Math.random().toString(36).slice(2)}`;
    const started = performance.now();
    await sender.send(attempt(check.feature, sender.jid, ctx.target.sfbUser(check.to).jid, id));
    await answerFrom(ctx.target.barrier(sender, ctx.timeoutMs));
    const error = sender.received().find((r) => r.stanza.attrs.id === id && r.stanza.attrs.type === 'error');
    const latencyMs = performance.now() - started;
    if (!error) return { outcome: pass('no error before the barrier: silence'), latencyMs };
    const { condition, text } = stanzaError(error.stanza);
    return { outcome: fail({ error: condition }, text), latencyMs };
  },
});
