import { describe, expect, it } from '@jest/globals';
import { parse } from 'ltx';
import { unsupportedInIq, unsupportedInMessage, unsupportedInPresence } from '../../../../../src/targets/sim/mapping/xmpp-features.js';

const msg = (inner: string, type = 'chat'): ReturnType<typeof parse> =>
  parse(`<message xmlns='jabber:server' from='alice@partner.test/pc' to='bob@sfb.test' type='${type}' id='m1'>${inner}</message>`);
const iq = (inner: string, type = 'set'): ReturnType<typeof parse> =>
  parse(`<iq xmlns='jabber:server' from='alice@partner.test/pc' to='bob@sfb.test/desk' type='${type}' id='i1'>${inner}</iq>`);

describe('unsupportedInMessage', () => {
  it.each([
    ['a plain body', msg('<body>hi</body>')],
    ['body, thread and subject', msg('<subject>plan</subject><body>hi</body><thread>t-1</thread>')],
    [
      'body with XHTML-IM (the plain body goes through)',
      msg("<body>hi</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>hi</p></body></html>"),
    ],
    ['a chat state alone', msg("<composing xmlns='http://jabber.org/protocol/chatstates'/>")],
    ['a normal message without type', parse("<message to='bob@sfb.test'><body>hi</body></message>")],
  ])('lets %s through', (_name, stanza) => {
    expect(unsupportedInMessage(stanza)).toBeUndefined();
  });

  it.each([
    ['type groupchat', msg('<body>hi all</body>', 'groupchat'), 'groupchat', 'service-unavailable'],
    [
      'a MUC mediated invitation',
      msg("<x xmlns='http://jabber.org/protocol/muc#user'><invite from='alice@partner.test'/></x>", 'normal'),
      'muc-invitation',
      'feature-not-implemented',
    ],
    [
      'a XEP-0249 direct invitation',
      msg("<x xmlns='jabber:x:conference' jid='room@muc.partner.test'/>", 'normal'),
      'muc-invitation',
      'feature-not-implemented',
    ],
    [
      'a XEP-0066 file URL',
      msg("<body>file</body><x xmlns='jabber:x:oob'><url>https://partner.test/f.pdf</url></x>"),
      'file-transfer',
      'feature-not-implemented',
    ],
    [
      'a XEP-0353 call proposal',
      msg("<propose xmlns='urn:xmpp:jingle-message:0' id='c1'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose>"),
      'jingle',
      'feature-not-implemented',
    ],
    [
      'XHTML-IM without a body',
      msg("<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>hi</p></body></html>"),
      'xhtml-only',
      'feature-not-implemented',
    ],
  ])('refuses %s', (_name, stanza, feature, condition) => {
    const u = unsupportedInMessage(stanza);
    expect(u).toMatchObject({ feature, condition });
    expect(u?.text).toMatch(/^Skype for Business XMPP gateway: .* \(only 1:1 IM and presence\)$/);
  });

  it('does not mistake a muc#user element without an invitation for one', () => {
    expect(unsupportedInMessage(msg("<body>hi</body><x xmlns='http://jabber.org/protocol/muc#user'/>"))).toBeUndefined();
  });

  it('explains group chat in words', () => {
    expect(unsupportedInMessage(msg('<body>x</body>', 'groupchat'))?.text).toBe(
      'Skype for Business XMPP gateway: group chat is not supported (only 1:1 IM and presence)',
    );
  });
});

describe('unsupportedInPresence', () => {
  const presence = (attrs: string, inner: string) =>
    parse(`<presence xmlns='jabber:server' from='alice@partner.test/pc' to='room@sfb.test/alice'${attrs}>${inner}</presence>`);

  it('refuses a XEP-0045 room join with service-unavailable, and nothing else', () => {
    expect(unsupportedInPresence(presence('', "<x xmlns='http://jabber.org/protocol/muc'/>"))).toEqual({
      feature: 'muc-join',
      condition: 'service-unavailable',
      text: 'Skype for Business XMPP gateway: there are no group chat rooms to join (only 1:1 IM and presence)',
      behaviour: 'modalities.muc-join',
    });
    // Leaving a room, an error, and plain presence are not joins.
    expect(unsupportedInPresence(presence(" type='unavailable'", "<x xmlns='http://jabber.org/protocol/muc'/>"))).toBeUndefined();
    expect(unsupportedInPresence(presence(" type='error'", "<x xmlns='http://jabber.org/protocol/muc'/>"))).toBeUndefined();
    expect(unsupportedInPresence(presence('', '<show>away</show>'))).toBeUndefined();
  });
});

describe('unsupportedInIq', () => {
  it.each([
    [
      'XEP-0096 stream initiation',
      "<si xmlns='http://jabber.org/protocol/si' id='s1' profile='http://jabber.org/protocol/si/profile/file-transfer'/>",
      'file-transfer',
    ],
    ['XEP-0065 bytestreams', "<query xmlns='http://jabber.org/protocol/bytestreams' sid='s1'/>", 'file-transfer'],
    ['XEP-0047 IBB open', "<open xmlns='http://jabber.org/protocol/ibb' sid='s1' block-size='4096'/>", 'file-transfer'],
    ['XEP-0047 IBB data', "<data xmlns='http://jabber.org/protocol/ibb' sid='s1' seq='0'>AAAA</data>", 'file-transfer'],
    ['XEP-0066 iq:oob', "<query xmlns='jabber:iq:oob'><url>https://partner.test/f</url></query>", 'file-transfer'],
    [
      'a Jingle call',
      "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='j1'><content name='voice'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></content></jingle>",
      'jingle',
    ],
    [
      'a XEP-0234 Jingle file transfer',
      "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='j2'><content name='f'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></content></jingle>",
      'file-transfer',
    ],
    ['MUC owner configuration', "<query xmlns='http://jabber.org/protocol/muc#owner'/>", 'groupchat'],
    ['MUC admin', "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='x' role='none'/></query>", 'groupchat'],
  ])('refuses %s with service-unavailable', (_name, inner, feature) => {
    const u = unsupportedInIq(iq(inner));
    expect(u).toMatchObject({ feature, condition: 'service-unavailable' });
    expect(u?.text).toMatch(/^Skype for Business XMPP gateway: /);
  });

  it('refuses MUC administration requests with service-unavailable', () => {
    for (const ns of ['http://jabber.org/protocol/muc#owner', 'http://jabber.org/protocol/muc#admin']) {
      expect(unsupportedInIq(iq(`<query xmlns='${ns}'/>`, 'get'))).toMatchObject({
        feature: 'groupchat',
        condition: 'service-unavailable',
        behaviour: 'modalities.groupchat-iq',
      });
    }
  });

  it('lets other requests through, and never answers results or errors', () => {
    expect(unsupportedInIq(iq("<query xmlns='http://jabber.org/protocol/disco#info'/>", 'get'))).toBeUndefined();
    expect(unsupportedInIq(iq("<ping xmlns='urn:xmpp:ping'/>", 'get'))).toBeUndefined();
    expect(unsupportedInIq(iq("<si xmlns='http://jabber.org/protocol/si' id='s1'/>", 'result'))).toBeUndefined();
    expect(unsupportedInIq(iq("<jingle xmlns='urn:xmpp:jingle:1' sid='j1'/>", 'error'))).toBeUndefined();
  });
});
