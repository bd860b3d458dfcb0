import { describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import { pidfPriorityOf, pidfToPresence, presenceToTuple, readPidf, tupleIdOf } from '../../../../../src/targets/sim/gateway/presence-mapping.js';

const ENTITY = 'sip:alice@partner.test';
const FROM = 'alice@partner.test/pc';
const CONTACT = { uri: 'sip:alice@partner.test;gr=pc' };

describe('presenceToTuple (RFC 8048 section 6.2, XMPP -> SIP)', () => {
  it.each([
    ['no type is open', xml('presence', { from: FROM }), { id: 'ID-pc', basic: 'open', contact: CONTACT }],
    ['unavailable is closed', xml('presence', { from: FROM, type: 'unavailable' }), { id: 'ID-pc', basic: 'closed', contact: CONTACT }],
    [
      'show and status become show and note, xml:lang the note language',
      xml('presence', { from: FROM, 'xml:lang': 'fr' }, xml('show', {}, 'dnd'), xml('status', {}, 'en réunion')),
      { id: 'ID-pc', basic: 'open', show: 'dnd', note: 'en réunion', lang: 'fr', contact: CONTACT },
    ],
    [
      "a status's own xml:lang wins",
      xml('presence', { from: FROM, 'xml:lang': 'fr' }, xml('status', { 'xml:lang': 'de' }, 'weg')),
      { id: 'ID-pc', basic: 'open', note: 'weg', lang: 'de', contact: CONTACT },
    ],
    ['an unknown show is dropped', xml('presence', { from: FROM }, xml('show', {}, 'busy')), { id: 'ID-pc', basic: 'open', contact: CONTACT }],
    [
      'an empty status is no note',
      xml('presence', { from: FROM }, xml('show', {}, 'xa'), xml('status', {}, '')),
      { id: 'ID-pc', basic: 'open', show: 'xa', contact: CONTACT },
    ],
    ['a bare JID has no contact address', xml('presence', { from: 'alice@partner.test' }), { id: 'ID-', basic: 'open' }],
  ])('%s', (_what, stanza, tuple) => {
    expect(presenceToTuple(stanza)).toEqual(tuple);
  });

  it('priority becomes the contact priority from 0 to 1; a negative one is not mapped', () => {
    expect([0, 1, 2, 64, 126, 127, 200].map(pidfPriorityOf)).toEqual([0, 0.007, 0.015, 0.503, 0.992, 1, 1]);
    expect([-1, -128, 1.5].map(pidfPriorityOf)).toEqual([undefined, undefined, undefined]);
    const distinct = new Set(Array.from({ length: 128 }, (_, p) => pidfPriorityOf(p)));
    expect(distinct.size).toBe(128);
    expect(presenceToTuple(xml('presence', { from: FROM }, xml('priority', {}, '5'))).contact).toEqual({ ...CONTACT, priority: 0.039 });
    expect(presenceToTuple(xml('presence', { from: FROM }, xml('priority', {}, '-5'))).contact).toEqual(CONTACT);
  });

  it('a tuple id is the resource behind ID-, with what an xs:ID cannot hold escaped', () => {
    expect([tupleIdOf('pc'), tupleIdOf('Gajim.1-x_y'), tupleIdOf('my phone/2'), tupleIdOf('')]).toEqual([
      'ID-pc',
      'ID-Gajim.1-x_y',
      'ID-my_20_phone_2f_2',
      'ID-',
    ]);
  });
});

describe('pidfToPresence (RFC 8048 section 6.3, SIP -> XMPP)', () => {
  const render = (p: ReturnType<typeof pidfToPresence>) => ({ type: p.type, from: p.from, to: p.to, lang: p.lang, children: p.children.map(String) });

  it('open with show and a note: show and status (with its language)', () => {
    const p = pidfToPresence({ entity: ENTITY, basic: 'open', show: 'away', note: 'lunch', lang: 'en' }, 'erin@contoso.test', 'alice@partner.test', false);
    expect(render(p)).toEqual({
      type: undefined,
      from: 'erin@contoso.test',
      to: 'alice@partner.test',
      lang: undefined,
      children: ['<show>away</show>', '<status xml:lang="en">lunch</status>'],
    });
  });

  it('the Content-Language is the stanza language; the status repeats it only when it differs', () => {
    const same = pidfToPresence({ entity: ENTITY, basic: 'open', note: 'lunch', lang: 'en' }, 'a@x', 'b@y', false, 'en');
    const other = pidfToPresence({ entity: ENTITY, basic: 'open', note: 'Mittag', lang: 'de' }, 'a@x', 'b@y', false, 'en');
    expect([render(same), render(other)].map((r) => [r.lang, r.children])).toEqual([
      ['en', ['<status>lunch</status>']],
      ['en', ['<status xml:lang="de">Mittag</status>']],
    ]);
  });

  it('closed is unavailable, and a show means nothing then', () => {
    const p = pidfToPresence({ entity: ENTITY, basic: 'closed', show: 'dnd', note: 'gone' }, 'a@x', 'b@y', false);
    expect(render(p)).toEqual({ type: 'unavailable', from: 'a@x', to: 'b@y', lang: undefined, children: ['<status>gone</status>'] });
  });

  it('notes are stripped for partners who may not see them', () => {
    expect(render(pidfToPresence({ entity: ENTITY, basic: 'open', show: 'dnd', note: 'secret' }, 'a@x', 'b@y', true)).children).toEqual(['<show>dnd</show>']);
  });
});

describe('readPidf', () => {
  it('reads PIDF, and gives undefined (no throw) for anything else', () => {
    expect(
      readPidf(`<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='${ENTITY}'><tuple id='t'><status><basic>open</basic></status></tuple></presence>`),
    ).toEqual({ entity: ENTITY, basic: 'open' });
    expect(readPidf('<broken')).toBeUndefined();
    expect(readPidf('<presence xmlns="other"/>')).toBeUndefined();
  });
});
