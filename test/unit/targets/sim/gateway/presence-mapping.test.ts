import { describe, expect, it } from '@jest/globals';
import { xml } from '@xmpp/component-core';
import { pidfToPresence, presenceToPidf, readPidf } from '../../../../../src/targets/sim/gateway/presence-mapping.js';

const ENTITY = 'sip:alice@partner.test';

describe('presenceToPidf (RFC 8048, XMPP -> SIP)', () => {
  it.each([
    ['no type is open', xml('presence', {}), { entity: ENTITY, basic: 'open' }],
    ['unavailable is closed', xml('presence', { type: 'unavailable' }), { entity: ENTITY, basic: 'closed' }],
    [
      'show and status become show and note, xml:lang the note language',
      xml('presence', { 'xml:lang': 'fr' }, xml('show', {}, 'dnd'), xml('status', {}, 'en réunion')),
      { entity: ENTITY, basic: 'open', show: 'dnd', note: 'en réunion', lang: 'fr' },
    ],
    ['an unknown show is dropped', xml('presence', {}, xml('show', {}, 'busy')), { entity: ENTITY, basic: 'open' }],
    ['an empty status is no note', xml('presence', {}, xml('show', {}, 'xa'), xml('status', {}, '')), { entity: ENTITY, basic: 'open', show: 'xa' }],
  ])('%s', (_what, stanza, pidf) => {
    expect(presenceToPidf(stanza, ENTITY)).toEqual(pidf);
  });
});

describe('pidfToPresence (RFC 8048, SIP -> XMPP)', () => {
  const render = (p: ReturnType<typeof pidfToPresence>) => ({ type: p.type, from: p.from, to: p.to, children: p.children.map(String) });

  it('open with show and a note: show and status (with its language)', () => {
    const p = pidfToPresence({ entity: ENTITY, basic: 'open', show: 'away', note: 'lunch', lang: 'en' }, 'erin@contoso.test', 'alice@partner.test', false);
    expect(render(p)).toEqual({
      type: undefined,
      from: 'erin@contoso.test',
      to: 'alice@partner.test',
      children: ['<show>away</show>', '<status xml:lang="en">lunch</status>'],
    });
  });

  it('closed is unavailable, and a show means nothing then', () => {
    const p = pidfToPresence({ entity: ENTITY, basic: 'closed', show: 'dnd', note: 'gone' }, 'a@x', 'b@y', false);
    expect(render(p)).toEqual({ type: 'unavailable', from: 'a@x', to: 'b@y', children: ['<status>gone</status>'] });
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
