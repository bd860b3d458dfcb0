import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import type { Cite } from '../../../sfb/behaviours/log.js';
import { buildRequest } from '../../../sip/endpoint.js';
import { newCallId } from '../../../sip/message.js';
import { bareJid, jidToSipUri } from '../mapping/address.js';
import { stanzaErrorOf, type SipSide } from './sip-side.js';
import { StanzaRefusal, type IqHandler, type StanzaRouter } from './stanza-router.js';

export const PING_NS = 'urn:xmpp:ping';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

/**
 * XEP-0199 pings and XEP-0030 disco requests, to the gateway's domain or to an SfB user: the
 * domain answers at once, a user only when the pool says he is there.
 */
export function answerPingAndDisco(router: StanzaRouter, sip: SipSide, cite: Cite): void {
  const answer: IqHandler = async (iq, payload) => {
    const to = iq.attrs.to as string;
    const isUser = to.includes('@');
    cite('modalities.ping-disco');
    if (isUser) {
      // Is the user there? Only the pool knows: ask it over SIP (OPTIONS), as a ping would.
      const res = await sip.request(
        buildRequest({
          method: 'OPTIONS',
          uri: jidToSipUri(bareJid(to)),
          from: `<${jidToSipUri(iq.attrs.from as string)}>`,
          to: `<${jidToSipUri(bareJid(to))}>`,
          callId: newCallId(sip.host),
          cseq: sip.nextCseq(),
        }),
      );
      if (res.status >= 300) {
        cite('errors.sip-to-xmpp');
        throw new StanzaRefusal(...stanzaErrorOf(res));
      }
    }
    return discoAnswer(payload.attrs.xmlns as string, isUser);
  };
  for (const ns of [PING_NS, DISCO_INFO, DISCO_ITEMS]) router.iq('get', ns, answer);
}

function discoAnswer(ns: string, isUser: boolean): Element[] {
  if (ns === DISCO_INFO) {
    return [
      xml(
        'query',
        { xmlns: DISCO_INFO },
        isUser
          ? xml('identity', { category: 'account', type: 'registered' })
          : xml('identity', { category: 'gateway', type: 'sip', name: 'Skype for Business XMPP gateway (xfed simulation)' }),
        ...[DISCO_INFO, PING_NS].map((f) => xml('feature', { var: f })),
      ),
    ];
  }
  if (ns === DISCO_ITEMS) return [xml('query', { xmlns: DISCO_ITEMS })];
  return [];
}
