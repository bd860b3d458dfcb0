import { afterEach, describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { buildRequest } from '../../../../../src/sip/endpoint.js';
import { newCallId } from '../../../../../src/sip/message.js';
import type { GatewayTrace } from '../../../../../src/targets/sim/gateway/xmpp-sip-gateway.js';
import { FakeXmppLink } from '../../../../helpers/fake-xmpp-link.js';
import { GatewayUnderTest, PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { headersOf } from '../../../../helpers/sip-headers.js';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const PING = 'urn:xmpp:ping';
const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';
const ALICE = `alice@${PARTNER}/pc`;

let t: GatewayUnderTest;
afterEach(() => t?.stop());

const get = (id: string, to: string, payload: Element, type = 'get') => xml('iq', { type, id, from: ALICE, to }, payload);
const result = (id: string, from: string, ...children: Element[]) => xml('iq', { type: 'result', id, from, to: ALICE }, ...children).toString();
const iqError = (id: string, from: string, type: string, condition: string, text: string) =>
  xml(
    'iq',
    { type: 'error', id, from, to: ALICE },
    xml('error', { type }, xml(condition, { xmlns: STANZAS }), xml('text', { xmlns: STANZAS }, text)),
  ).toString();
const features = [xml('feature', { var: INFO }), xml('feature', { var: PING })];

describe('ping and disco, by namespace', () => {
  it('the gateway domain answers at once, without SIP', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(get('p', SFB, xml('ping', { xmlns: PING })));
    t.edge.deliver(get('i', SFB, xml('query', { xmlns: INFO })));
    t.edge.deliver(get('t', SFB, xml('query', { xmlns: ITEMS })));
    expect((await t.edge.replyTo('p')).toString()).toBe(result('p', SFB));
    expect((await t.edge.replyTo('i')).toString()).toBe(
      result(
        'i',
        SFB,
        xml(
          'query',
          { xmlns: INFO },
          xml('identity', { category: 'gateway', type: 'sip', name: 'Skype for Business XMPP gateway (xfed simulation)' }),
          ...features,
        ),
      ),
    );
    expect((await t.edge.replyTo('t')).toString()).toBe(result('t', SFB, xml('query', { xmlns: ITEMS })));
    expect(t.pool.received).toEqual([]);
  });

  it('a user answers after the pool says he is there (OPTIONS 200)', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(get('i', `erin@${SFB}/desk`, xml('query', { xmlns: INFO })));
    const options = await t.pool.next('OPTIONS', 'the OPTIONS');
    expect(options.uri).toBe(`sip:erin@${SFB}`);
    expect(headersOf(options)).toEqual({
      From: expect.stringMatching(/^<sip:alice@partner\.test;gr=pc>;tag=[0-9a-f]{10}$/),
      To: `<sip:erin@${SFB}>`,
      'Call-ID': expect.stringMatching(/@127\.0\.0\.1$/),
      CSeq: '1 OPTIONS',
      'Max-Forwards': '70',
    });
    expect((await t.edge.replyTo('i')).toString()).toBe(
      result('i', `erin@${SFB}/desk`, xml('query', { xmlns: INFO }, xml('identity', { category: 'account', type: 'registered' }), ...features)),
    );
  });

  it("a user the pool refuses: the stanza error of the pool's answer", async () => {
    t = await GatewayUnderTest.start();
    t.pool.answer('OPTIONS', { status: 480 });
    t.edge.deliver(get('p', `ivan@${SFB}`, xml('ping', { xmlns: PING })));
    expect((await t.edge.replyTo('p')).toString()).toBe(iqError('p', `ivan@${SFB}`, 'wait', 'recipient-unavailable', 'SIP 480 Temporarily Unavailable'));
  });

  it('other requests get service-unavailable: a set of a known namespace, an unknown namespace, no payload', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(get('s', SFB, xml('ping', { xmlns: PING }), 'set'));
    t.edge.deliver(get('v', `erin@${SFB}`, xml('query', { xmlns: 'jabber:iq:version' })));
    t.edge.deliver(xml('iq', { type: 'get', id: 'e', from: ALICE, to: SFB }));
    expect((await t.edge.replyTo('s')).toString()).toBe(
      iqError('s', SFB, 'cancel', 'service-unavailable', `The Skype for Business XMPP gateway does not handle ${PING} requests`),
    );
    expect((await t.edge.replyTo('v')).toString()).toBe(
      iqError('v', `erin@${SFB}`, 'cancel', 'service-unavailable', 'The Skype for Business XMPP gateway does not handle jabber:iq:version requests'),
    );
    expect((await t.edge.replyTo('e')).toString()).toBe(
      iqError('e', SFB, 'cancel', 'service-unavailable', 'The Skype for Business XMPP gateway does not handle this requests'),
    );
    expect(t.pool.received).toEqual([]);
  });

  it('unsupported features (Jingle, file transfer) are refused with their own text', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(get('j', `erin@${SFB}/pc`, xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action: 'session-initiate', sid: 's1' }), 'set'));
    t.edge.deliver(get('f', `erin@${SFB}/pc`, xml('si', { xmlns: 'http://jabber.org/protocol/si', id: 'f1' }), 'set'));
    expect((await t.edge.replyTo('j')).toString()).toBe(
      iqError(
        'j',
        `erin@${SFB}/pc`,
        'cancel',
        'service-unavailable',
        'Skype for Business XMPP gateway: audio, video and other Jingle sessions are not supported (only 1:1 IM and presence)',
      ),
    );
    expect((await t.edge.replyTo('f')).toString()).toBe(
      iqError(
        'f',
        `erin@${SFB}/pc`,
        'cancel',
        'service-unavailable',
        'Skype for Business XMPP gateway: file transfer is not supported (only 1:1 IM and presence)',
      ),
    );
  });

  it('results and errors nobody waits for are dropped', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(xml('iq', { type: 'result', id: 'stray', from: ALICE, to: SFB }));
    t.edge.deliver(xml('iq', { type: 'error', id: 'stray2', from: ALICE, to: SFB }));
    t.edge.deliver(get('p', SFB, xml('ping', { xmlns: PING })));
    await t.edge.replyTo('p');
    expect(t.edge.sent.map((s) => s.attrs.id)).toEqual(['p']);
  });
});

describe('the SIP side', () => {
  it('answers OPTIONS with Allow, and 405 to other methods it does not gateway', async () => {
    t = await GatewayUnderTest.start();
    const request = (method: string) =>
      buildRequest({ method, uri: `sip:alice@${PARTNER}`, from: `<sip:erin@${SFB}>`, to: `<sip:alice@${PARTNER}>`, callId: newCallId('x'), cseq: 1 });
    const options = await t.fromPool(request('OPTIONS'));
    const info = await t.fromPool(request('INFO'));
    expect([options.status, options.headers.get('Allow'), info.status, info.headers.get('Allow')]).toEqual([
      200,
      'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS',
      405,
      'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS',
    ]);
  });
});

describe('a restart of the gateway service', () => {
  it("forgets the SIP dialogs it held: the pool's next NOTIFY and an SfB user's refresh get 481", async () => {
    const cited: string[] = [];
    t = await GatewayUnderTest.start({ cite: (id) => cited.push(id) });
    // alice watches erin (the gateway subscribes), nora watches alice (the gateway notifies).
    t.pool.answerOnce('SUBSCRIBE', { status: 202, toTag: 'pooltag', headers: { Expires: '3600' } });
    t.edge.deliver(xml('presence', { from: ALICE, to: `erin@${SFB}`, type: 'subscribe' }));
    const sub = await t.pool.next('SUBSCRIBE', "alice's SUBSCRIBE");
    const nora = buildRequest({
      method: 'SUBSCRIBE',
      uri: `sip:alice@${PARTNER}`,
      from: `<sip:nora@${SFB}>;tag=noratag`,
      to: `<sip:alice@${PARTNER}>`,
      callId: 'nora-alice',
      cseq: 1,
      contact: `<${t.pool.contactUri('nora', 'tcp')}>`,
      headers: { Event: 'presence', Expires: '3600' },
    });
    const accepted = await t.fromPool(nora);
    await t.pool.next('NOTIFY', 'the pending NOTIFY');
    t.gateway.forgetDialogs();
    const notify = buildRequest({
      method: 'NOTIFY',
      uri: sub.headers.get('Contact')!.replace(/^<|>$/g, ''),
      from: `<sip:erin@${SFB}>;tag=pooltag`,
      to: sub.headers.get('From')!,
      callId: sub.headers.get('Call-ID')!,
      cseq: 1,
      headers: { Event: 'presence', 'Subscription-State': 'active;expires=3600' },
    });
    const refresh = buildRequest({
      method: 'SUBSCRIBE',
      uri: accepted.headers.get('Contact')!.replace(/^<|>$/g, ''),
      from: nora.headers.get('From')!,
      to: accepted.headers.get('To')!,
      callId: 'nora-alice',
      cseq: 2,
      headers: { Event: 'presence', Expires: '3600' },
    });
    expect([(await t.fromPool(notify)).status, (await t.fromPool(refresh)).status]).toEqual([481, 481]);
    expect(t.edge.sent.filter((s) => s.attrs.type !== 'subscribe')).toEqual([]);
    expect(cited).toContain('presence.gateway-restart-state-lost');
  });
});

describe('the link', () => {
  it('traces every stanza in and out with a label, and every SIP message', async () => {
    t = await GatewayUnderTest.start();
    const traces: GatewayTrace[] = [];
    t.gateway.on('trace', (tr: GatewayTrace) => traces.push(tr));
    t.pool.answer('OPTIONS', { status: 404 });
    t.edge.deliver(get('p', `nobody@${SFB}`, xml('ping', { xmlns: PING })));
    await t.edge.replyTo('p');
    expect(traces.map((tr) => [tr.protocol, tr.direction, tr.label])).toEqual([
      ['xmpp', 'in', 'iq get ping'],
      ['sip', 'out', 'SIP OPTIONS'],
      ['sip', 'in', 'SIP 404 Not Found (OPTIONS)'],
      // An IQ error's first child, <error/>, is taken for its payload.
      ['xmpp', 'out', 'iq error error item-not-found'],
    ]);
    expect(traces[0]!.wire).toBe(get('p', `nobody@${SFB}`, xml('ping', { xmlns: PING })).toString());
    expect(traces[1]!.wire).toMatch(/^OPTIONS sip:nobody@contoso\.test SIP\/2\.0\r\n/);
  });

  it('detach stops the link and drops what would go out; another link can be attached', async () => {
    t = await GatewayUnderTest.start();
    expect(t.gateway.attached).toBe(true);
    await t.gateway.detach();
    expect([t.gateway.attached, t.edge.stopped]).toEqual([false, true]);
    // The stopped link delivers nothing more to the gateway.
    t.edge.deliver(get('late', SFB, xml('ping', { xmlns: PING })));
    const next = new FakeXmppLink();
    await t.gateway.attachLink(next);
    next.deliver(get('p', SFB, xml('ping', { xmlns: PING })));
    expect((await next.replyTo('p')).toString()).toBe(result('p', SFB));
    expect([t.edge.sent, next.sent.map((s) => s.attrs.id)]).toEqual([[], ['p']]);
    // Attaching a link detaches the one before.
    await t.gateway.attachLink(new FakeXmppLink());
    expect(next.stopped).toBe(true);
  });
});
