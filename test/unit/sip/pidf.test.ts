import { describe, expect, it } from '@jest/globals';
import { SipParseError } from '../../../src/sip/message.js';
import { buildPidf, parsePidf, pidfOfTuples, type PidfPresence, type PidfTuple } from '../../../src/sip/pidf.js';
import { DEFAULT_SHOW_MAPPING, SFB_AVAILABILITIES, SFB_AVAILABILITY_CODES, availabilityFromCode } from '../../../src/sfb/availability.js';

describe('PIDF', () => {
  it('builds the documented placement: show in the tuple after status, note at presence level', () => {
    const xml = buildPidf({ entity: 'sip:alice@contoso.test', basic: 'open', show: 'dnd', note: 'In a meeting', lang: 'en' });
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@contoso.test">/);
    expect(xml).toMatch(
      /<tuple id="t[0-9a-f]{8}"><status><basic>open<\/basic><\/status><show xmlns="jabber:client">dnd<\/show><\/tuple><note xml:lang="en">In a meeting<\/note><\/presence>$/,
    );
  });

  it.each<PidfPresence>([
    { entity: 'sip:a@c.test', basic: 'open' },
    { entity: 'sip:a@c.test', basic: 'open', show: 'chat' },
    { entity: 'sip:a@c.test', basic: 'open', show: 'away', note: '' },
    { entity: 'sip:a@c.test', basic: 'open', show: 'xa', note: 'gone <home> & "out"', lang: 'de' },
    { entity: 'sip:a@c.test', basic: 'closed', note: 'Ünïcode ✓' },
  ])('round-trips %j', (p) => {
    expect(parsePidf(buildPidf(p))).toEqual(p);
  });

  it('is tolerant of prefixes, show placement, several tuples and a note inside a tuple', () => {
    const xml = `<?xml version="1.0"?>
      <p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" xmlns:j="jabber:client" entity="pres:bob@c.test">
        <p:tuple id="a"><p:status><p:basic>closed</p:basic></p:status></p:tuple>
        <p:tuple id="b"><p:status><p:basic> open </p:basic><j:show>away</j:show></p:status>
          <p:note xml:lang="fr">absent</p:note></p:tuple>
      </p:presence>`;
    expect(parsePidf(xml)).toEqual({
      entity: 'pres:bob@c.test',
      basic: 'open',
      show: 'away',
      note: 'absent',
      lang: 'fr',
      tuples: [
        { id: 'a', basic: 'closed' },
        { id: 'b', basic: 'open', show: 'away', note: 'absent', lang: 'fr' },
      ],
    });
  });

  it('one tuple per device, each with its contact priority and note; the open one of highest priority describes the presentity', () => {
    const tuples: PidfTuple[] = [
      { id: 'ID-phone', basic: 'open', show: 'away', note: 'on the road', lang: 'en', contact: { uri: 'sip:a@p.test;gr=phone', priority: 0.5 } },
      { id: 'ID-desk', basic: 'open', note: 'at my desk', contact: { uri: 'sip:a@p.test;gr=desk', priority: 0.992 } },
      { id: 'ID-old', basic: 'closed', contact: { uri: 'sip:a@p.test;gr=old' } },
    ];
    const p = pidfOfTuples('sip:a@p.test', tuples);
    expect(p).toEqual({ entity: 'sip:a@p.test', basic: 'open', note: 'at my desk', tuples });
    const xml = buildPidf(p);
    expect(xml).toContain(
      '<tuple id="ID-phone"><status><basic>open</basic></status><show xmlns="jabber:client">away</show><contact priority="0.5">sip:a@p.test;gr=phone</contact><note xml:lang="en">on the road</note></tuple>',
    );
    expect(parsePidf(xml)).toEqual(p);
    // Every device gone: closed, described by the first.
    expect(pidfOfTuples('sip:a@p.test', [{ id: 'ID-x', basic: 'closed', show: 'dnd', note: 'bye' }])).toMatchObject({ basic: 'closed', note: 'bye' });
  });

  it.each([
    ['not XML', 'hello'],
    ['unclosed XML', '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="x"><tuple>'],
    ['a wrong root namespace', '<presence xmlns="jabber:client" entity="x"/>'],
    ['no entity', '<presence xmlns="urn:ietf:params:xml:ns:pidf"/>'],
    ['a bad basic', '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="x"><tuple id="t"><status><basic>maybe</basic></status></tuple></presence>'],
    [
      'a bad show',
      '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="x"><tuple id="t"><status><basic>open</basic></status><show xmlns="jabber:client">busy</show></tuple></presence>',
    ],
  ])('rejects %s with SipParseError', (_, xml) => {
    expect(() => parsePidf(xml)).toThrow(SipParseError);
  });
});

describe('SfB availability', () => {
  it('has the documented codes, and every code maps back to its state', () => {
    expect(SFB_AVAILABILITY_CODES).toEqual({ Available: 3500, Busy: 6500, DoNotDisturb: 9500, BeRightBack: 12500, Away: 15500, Offline: 18500 });
    for (const a of SFB_AVAILABILITIES) expect(availabilityFromCode(SFB_AVAILABILITY_CODES[a])).toBe(a);
  });

  it.each([
    [0, 'Available'],
    [4499, 'Available'],
    [4500, 'Away'],
    [5999, 'Away'],
    [6000, 'Busy'],
    [8999, 'Busy'],
    [9000, 'DoNotDisturb'],
    [11999, 'DoNotDisturb'],
    [12000, 'BeRightBack'],
    [14999, 'BeRightBack'],
    [15000, 'Away'],
    [17999, 'Away'],
    [18000, 'Offline'],
    [99999, 'Offline'],
  ])('code %d is %s', (code, state) => {
    expect(availabilityFromCode(code)).toBe(state);
  });

  it('rejects negative codes', () => {
    expect(() => availabilityFromCode(-1)).toThrow(RangeError);
  });

  it('maps to PIDF basic and XMPP show as documented', () => {
    expect(DEFAULT_SHOW_MAPPING).toEqual({
      Available: { basic: 'open' },
      Busy: { basic: 'open', show: 'dnd' },
      DoNotDisturb: { basic: 'open', show: 'dnd' },
      BeRightBack: { basic: 'open', show: 'away' },
      Away: { basic: 'open', show: 'xa' },
      Offline: { basic: 'closed' },
    });
  });
});
