import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// The simulation's parts, as a user of the package imports them.
import { jidToSipUri } from 'xfed/sim';
import { SIP_TO_XMPP_TABLE } from '../../src/targets/sim/mapping/errors.js';
import { SimTopology } from '../../src/targets/sim/sim-topology.js';
import { stanza, xml, type Element, type XmppUser } from '../../src/xmpp/client.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';
import { PARTNER, at, cast, errorFor, nothingBeforeBarrier } from '../helpers/sim-support.js';
import { TABLE_2_FULL_JID } from '../helpers/rfc7247.js';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** The SIP MESSAGE the gateway sent for the last message whose body is `body`. */
function sipMessageWith(topo: SimTopology, body: string): string {
  const sent = topo.flow.since(0).filter((e) => e.from === 'gateway' && e.to === 'sip-pool' && e.label === 'SIP MESSAGE' && e.wire.endsWith(body));
  expect(sent.length).toBeGreaterThan(0);
  return sent.at(-1)!.wire;
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'IM across the simulated legacy gateway (RFC 7572)', () => {
    let topo: SimTopology;
    let alice: XmppUser;
    beforeAll(async () => {
      topo = await SimTopology.start(cast(kind));
      alice = await topo.partnerUser('alice');
    });
    afterAll(() => topo?.stop());

    describe('partner -> SfB', () => {
      it('an echo user answers with the same text; body, subject, thread and xml:lang map both ways', async () => {
        const body = 'Grüße 👋 <b>&amp; "quoted"</b>';
        await alice.send(
          xml(
            'message',
            { type: 'chat', to: at('erin'), id: 'm1', 'xml:lang': 'de' },
            xml('body', {}, body),
            xml('subject', {}, 'Cutover'),
            xml('thread', {}, 'thread-42'),
          ),
        );
        const echo = await alice.waitFor((s) => stanza.message(at('erin'))(s) && s.getChildText('body') === body, 5_000, 'the echo');
        expect(echo.stanza.getChildText('subject')).toBe('Cutover');
        expect(echo.stanza.getChildText('thread')).toBe('thread-42');
        expect(echo.stanza.attrs['xml:lang']).toBe('de');
        const sip = sipMessageWith(topo, body);
        expect(sip).toMatch(/^MESSAGE sip:erin@contoso\.test SIP\/2\.0\r\n/);
        expect(sip).toMatch(/\r\nCall-ID: thread-42\r\n/);
        expect(sip).toMatch(/\r\nSubject: Cutover\r\n/);
        expect(sip).toMatch(/\r\nContent-Language: de\r\n/);
        expect(sip).toMatch(/\r\nContent-Type: text\/plain/);
        expect(sip).toMatch(/\r\nFrom: <sip:alice@partner\.test;gr=[^>]+>;tag=/);
      });

      it('a user who accepts quietly gets the IM; the sender sees no error before a barrier', async () => {
        const mark = alice.mark();
        const got = topo.waitForSfbEvent((e) => e.user === 'frank' && e.kind === 'im', 5_000, 'frank receives the IM');
        await alice.sendMessage(at('frank'), 'for frank');
        expect((await got).body).toBe('for frank');
        expect(await nothingBeforeBarrier(alice, mark, (s) => s.attrs.type === 'error')).toEqual([]);
      });

      it.each([
        ['hugo', 'declines (603)', 'recipient-unavailable', /SIP 603/],
        ['ivan', 'is offline (480)', 'recipient-unavailable', /SIP 480/],
        ['nobody', 'does not exist (404)', 'item-not-found', /SIP 404/],
        ['judy', 'is homed on the 2019 pool, which has no XMPP gateway (403)', 'forbidden', /SIP 403.*XMPP gateway/i],
        ['kim', 'has no EnableXmppAccess (403)', 'forbidden', /SIP 403.*EnableXmppAccess/],
      ])('an SfB user who %s: the partner gets %s', async (user, _why, condition, text) => {
        const id = await alice.sendMessage(at(user), `to ${user}`);
        const error = await errorFor(alice, id);
        expect(error.condition).toBe(condition);
        expect(error.text).toMatch(text);
      });

      it('every SIP status of RFC 7247 Table 3 becomes its stanza error', async () => {
        try {
          for (const { status, condition } of SIP_TO_XMPP_TABLE) {
            topo.directory.setRespondWith('nora', status);
            const id = await alice.sendMessage(at('nora'), `status ${status}`);
            const error = await errorFor(alice, id);
            expect({ status, condition: error.condition }).toEqual({ status, condition });
            expect(error.text).toContain(`SIP ${status}`);
          }
        } finally {
          topo.directory.setRespondWith('nora', undefined);
        }
      });

      it('escapes addresses: XEP-0106 in JIDs, %-escapes in SIP URIs, both ways', async () => {
        for (const [jidLocal, sipUser] of [
          ['josé', 'jos%C3%A9'],
          ['first\\20last', 'first%20last'],
        ] as const) {
          await alice.sendMessage(`${jidLocal}@contoso.test`, `hi ${sipUser}`);
          const echo = await alice.waitFor(stanza.message(`${jidLocal}@contoso.test`), 5_000, `the echo of ${jidLocal}`);
          expect(echo.stanza.getChildText('body')).toBe(`hi ${sipUser}`);
          expect(sipMessageWith(topo, `hi ${sipUser}`)).toMatch(new RegExp(`^MESSAGE sip:${sipUser}@contoso\\.test SIP/2\\.0`));
        }
        const ohara = await topo.partnerUser('o\\27hara');
        await ohara.sendMessage(at('erin'), 'from ohara');
        const echo = await ohara.waitFor(stanza.message(at('erin')), 5_000, "the echo to o'hara");
        expect(echo.stanza.getChildText('body')).toBe('from ohara');
        expect(sipMessageWith(topo, 'from ohara')).toMatch(/\r\nFrom: <sip:o'hara@partner\.test;gr=/);
      });

      it('refuses a MESSAGE over 1300 bytes with policy-violation, and sends one just under', async () => {
        const id = await alice.sendMessage(at('erin'), 'x'.repeat(1300));
        const error = await errorFor(alice, id);
        expect(error.condition).toBe('policy-violation');
        expect(error.text).toMatch(/1300/);
        const fits = 'y'.repeat(700);
        await alice.sendMessage(at('erin'), fits);
        await alice.waitFor((s) => s.getChildText('body') === fits, 5_000, 'the echo of a message that fits');
      });

      it('answers unsupported features with a clear stanza error, never silence', async () => {
        const cases = [
          [xml('message', { type: 'groupchat', to: at('erin'), id: 'u1' }, xml('body', {}, 'room talk')), 'service-unavailable', /group chat/],
          [xml('message', { to: at('erin'), id: 'u7' }, xml('propose', { xmlns: 'urn:xmpp:jingle-message:0', id: 'c1' })), 'feature-not-implemented', /Jingle/],
          [xml('presence', { to: `room@contoso.test/alice`, id: 'u8' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })), 'service-unavailable', /rooms/],
          [
            xml('message', { to: at('erin'), id: 'u2' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, xml('invite', { from: alice.jid }))),
            'feature-not-implemented',
            /invitation/,
          ],
          [
            xml('message', { to: at('erin'), id: 'u3' }, xml('x', { xmlns: 'jabber:x:oob' }, xml('url', {}, 'https://files.partner.test/a.pdf'))),
            'feature-not-implemented',
            /file transfer/,
          ],
          [xml('message', { to: at('erin'), id: 'u4' }, xml('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' })), 'feature-not-implemented', /XHTML/],
          [
            xml('iq', { type: 'set', to: `${at('erin')}/pc`, id: 'u5' }, xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action: 'session-initiate', sid: 's1' })),
            'service-unavailable',
            /Jingle|not supported/,
          ],
          [
            xml('iq', { type: 'set', to: `${at('erin')}/pc`, id: 'u6' }, xml('si', { xmlns: 'http://jabber.org/protocol/si', id: 'f1' })),
            'service-unavailable',
            /file transfer/,
          ],
        ] as const;
        for (const [el, condition, text] of cases) {
          await alice.send(el);
          const error = await errorFor(alice, el.attrs.id as string);
          expect({ id: el.attrs.id, condition: error.condition }).toEqual({ id: el.attrs.id, condition });
          expect(error.text).toMatch(text);
        }
        // XHTML with a plain body is supported: the body crosses as text/plain.
        await alice.send(
          xml('message', { type: 'chat', to: at('erin') }, xml('body', {}, 'plain part'), xml('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' })),
        );
        await alice.waitFor((s) => s.getChildText('body') === 'plain part', 5_000, 'the echo of the plain part');
      });
    });

    describe('SfB -> partner', () => {
      it('an SfB user writes first: 200, a page-mode message (type normal) with subject, language and Call-ID as thread', async () => {
        const res = (await topo.sfbUser('erin').sendIm(alice.bare, 'Bonjour à tous', { subject: 'Réunion', lang: 'fr', callId: 'call-7' })).sip;
        expect(res.status).toBe(200);
        const m = await alice.waitFor((s) => stanza.message(at('erin'))(s) && s.getChildText('body') === 'Bonjour à tous', 5_000, "erin's IM");
        expect(m.stanza.attrs.type).toBe('normal');
        expect(m.stanza.getChildText('subject')).toBe('Réunion');
        expect(m.stanza.getChildText('thread')).toBe('call-7');
        expect(m.stanza.attrs['xml:lang']).toBe('fr');
      });

      it('to an unknown partner user: the partner server refuses and the SfB user gets 405 (service-unavailable)', async () => {
        const res = (await topo.sfbUser('erin').sendIm(`nobody@${PARTNER}`, 'anyone?')).sip;
        expect(res.status).toBe(405);
        expect(res.headers.get('Warning')).toMatch(/service-unavailable/);
      });

      it('an SfB user writes HTML: the partner gets the text a reader sees', async () => {
        const res = (await topo.sfbUser('erin').sendIm(alice.bare, '<p>Cutover <b>tonight</b> &amp; tomorrow</p>', { contentType: 'text/html' })).sip;
        expect(res.status).toBe(200);
        await alice.waitFor((s) => stanza.message(at('erin'))(s) && s.getChildText('body') === 'Cutover tonight & tomorrow', 5_000, 'the plain text');
      });

      it('to a domain that does not exist (NXDOMAIN): 404 (remote-server-not-found, RFC 7247 note 4)', async () => {
        const res = (await topo.sfbUser('erin').sendIm('someone@nowhere.test', 'hello?')).sip;
        expect(res.status).toBe(404);
        expect(res.headers.get('Warning')).toMatch(/remote-server-not-found/);
      });

      it('to a partner domain that exists but whose server cannot be reached (S2S link cut): 408 (remote-server-not-found, RFC 7247 note 4)', async () => {
        await topo.links.set('cut');
        try {
          const res = (await topo.sfbUser('erin').sendIm(alice.bare, 'anyone there?')).sip;
          expect([res.status, res.headers.get('Warning')]).toEqual([408, expect.stringMatching(/remote-server-not-found/)]);
        } finally {
          await topo.links.set('restored');
        }
        const back = (await topo.sfbUser('erin').sendIm(alice.bare, 'link restored')).sip;
        expect(back.status).toBe(200);
      });

      it('from a user homed on the 2019 pool: no route to XMPP', async () => {
        const res = (await topo.sfbUser('judy').sendIm(alice.bare, 'from 2019')).sip;
        expect(res.status).toBeGreaterThanOrEqual(400);
      });

      it("every stanza error of RFC 7247 Table 2 from a partner's client becomes its SIP status", async () => {
        // The partner client refuses as it receives (a real client answers in order, before the
        // gateway's ping barrier that follows the message to its full JID). An error for a bare
        // JID (the 6xx rows) cannot be awaited so: the barrier then goes to the partner's server.
        // partner.test exists in DNS: remote-server-not-found means "cannot be resolved" (note 4), 408.
        const table = TABLE_2_FULL_JID.map(([condition, status]): [string, number] => [condition, condition === 'remote-server-not-found' ? 408 : status]);
        let refuseWith: Element = xml('undefined-condition', { xmlns: STANZAS });
        const off = alice.respondOnArrival(
          (s) => s.is('message') && s.getChildText('body')?.startsWith('refuse with ') === true,
          (s) => xml('message', { type: 'error', to: s.attrs.from, id: s.attrs.id }, xml('error', { type: 'cancel' }, refuseWith)),
        );
        try {
          for (const [condition, status] of table) {
            refuseWith = xml(condition, { xmlns: STANZAS });
            const res = (await topo.sfbUser('erin').sendIm(jidToSipUri(alice.jid), `refuse with ${condition}`)).sip;
            expect({ condition, status: res.status }).toEqual({ condition, status });
            expect(res.headers.get('Warning')).toContain(condition);
          }
          // <gone/> with the new address: 301, the address in Contact (note 3).
          refuseWith = xml('gone', { xmlns: STANZAS }, 'xmpp:alice@new.partner.test');
          const moved = (await topo.sfbUser('erin').sendIm(jidToSipUri(alice.jid), 'refuse with gone and a new address')).sip;
          expect([moved.status, moved.headers.get('Contact')]).toEqual([301, '<sip:alice@new.partner.test>']);
        } finally {
          off();
        }
      });
    });
  });
}
