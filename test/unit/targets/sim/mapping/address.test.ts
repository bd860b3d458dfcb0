import { describe, expect, it } from '@jest/globals';
import {
  AddressMappingError,
  SipsTargetError,
  bareJid,
  domainOf,
  jidToSipUri,
  sipUriToJid,
  xmppUriToJid,
} from '../../../../../src/targets/sim/mapping/address.js';

// Independent reference encoders, so the round trip is not checked against itself.
const XEP0106: Record<string, string> = { ' ': '20', '"': '22', '&': '26', "'": '27', '/': '2f', ':': '3a', '<': '3c', '>': '3e', '@': '40' };
function refJidEscape(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c in XEP0106) out += `\\${XEP0106[c]}`;
    else if (c === '\\' && /^(20|22|26|27|2f|3a|3c|3e|40|5c)/.test(raw.slice(i + 1))) out += '\\5c';
    else out += c;
  }
  return out;
}
// encodeURIComponent keeps exactly RFC 3261's `unreserved`; SIP's user-unreserved "&=+$,;?/" may stay too.
const refSipUser = (raw: string): string => encodeURIComponent(raw).replace(/%(26|3D|2B|24|2C|3B|3F|2F)/g, (e) => decodeURIComponent(e));

describe('jidToSipUri / sipUriToJid (RFC 7247 with XEP-0106 and %-escapes)', () => {
  const cases: Array<[string, string, string]> = [
    ['plain user', 'alice@partner.test', 'sip:alice@partner.test'],
    ['apostrophe (XEP-0106 \\27, legal in SIP)', 'o\\27hara@partner.test', "sip:o'hara@partner.test"],
    ['ampersand', 'd\\26d@partner.test', 'sip:d&d@partner.test'],
    ['slash', 'a\\2fb@partner.test', 'sip:a/b@partner.test'],
    ['hash (legal in JIDs, %-escaped in SIP)', '#hash@partner.test', 'sip:%23hash@partner.test'],
    ['accented letter as UTF-8 bytes', 'josé@partner.test', 'sip:jos%C3%A9@partner.test'],
    ['CJK as UTF-8 bytes', '中文@partner.test', 'sip:%E4%B8%AD%E6%96%87@partner.test'],
    ['space', 'first\\20last@partner.test', 'sip:first%20last@partner.test'],
    ['at sign in the SIP user', 'a\\40b@partner.test', 'sip:a%40b@partner.test'],
    ['colon', 'a\\3ab@partner.test', 'sip:a%3Ab@partner.test'],
    ['percent sign', '100%@partner.test', 'sip:100%25@partner.test'],
    ['lone backslash (not an escape, kept)', 'a\\b@partner.test', 'sip:a%5Cb@partner.test'],
    ['backslash that would read as an escape', 'a\\5c27b@partner.test', 'sip:a%5C27b@partner.test'],
    ['resource as ;gr=', 'alice@partner.test/phone', 'sip:alice@partner.test;gr=phone'],
    ['resource with space and @', 'alice@partner.test/my phone@home', 'sip:alice@partner.test;gr=my%20phone%40home'],
  ];
  it.each(cases)('%s: %s <-> %s', (_name, jid, uri) => {
    expect(jidToSipUri(jid)).toBe(uri);
    expect(sipUriToJid(uri)).toBe(jid);
  });

  it('reads a full SIP URI: password, port, other params and headers are dropped', () => {
    expect(sipUriToJid('sip:alice:secret@partner.test:5061;transport=tls;gr=pc?subject=hi')).toBe('alice@partner.test/pc');
    expect(sipUriToJid('SIP:bob@sfb.test;GR=desk')).toBe('bob@sfb.test/desk');
    expect(sipUriToJid('sip:bob@[2001:db8::1]:5060')).toBe('bob@[2001:db8::1]');
  });

  it('maps a resource to the GRUU gr parameter and back', () => {
    expect(jidToSipUri('alice@partner.test/conversations.x1')).toBe('sip:alice@partner.test;gr=conversations.x1');
    expect(sipUriToJid('sip:erin@contoso.test;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6')).toBe(
      'erin@contoso.test/urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    );
    expect(jidToSipUri('alice@partner.test')).toBe('sip:alice@partner.test');
  });

  it('maps a valueless ;gr (temporary GRUU) to the bare JID', () => {
    expect(sipUriToJid('sip:bob@sfb.test;gr')).toBe('bob@sfb.test');
  });

  it('refuses a sips: target but translates a sips: sender (RFC 7247 section 8)', () => {
    expect(() => sipUriToJid('sips:alice@partner.test')).toThrow(SipsTargetError);
    expect(() => sipUriToJid('SIPS:alice@partner.test', 'target')).toThrow(/sips: URI, which is never gatewayed to XMPP \(RFC 7247 section 8\)/);
    expect(sipUriToJid('sips:erin@contoso.test;gr=desk', 'sender')).toBe('erin@contoso.test/desk');
    expect(sipUriToJid('sip:erin@contoso.test', 'sender')).toBe('erin@contoso.test');
  });

  it('refuses URIs without a user, or that are not SIP URIs', () => {
    expect(() => sipUriToJid('sip:partner.test')).toThrow(/no user part/);
    expect(() => sipUriToJid('sip:@partner.test')).toThrow(AddressMappingError);
    expect(() => sipUriToJid('tel:+15551234')).toThrow(/not a sip: URI/);
    expect(() => sipUriToJid('sip:a%E4@partner.test')).toThrow(/malformed %-escape/);
  });

  it('refuses JIDs that are not user addresses', () => {
    expect(() => jidToSipUri('partner.test')).toThrow(/no localpart/);
    expect(() => jidToSipUri('alice@')).toThrow(AddressMappingError);
    expect(() => jidToSipUri('alice@partner.test/')).toThrow(AddressMappingError);
  });

  it('round-trips every printable ASCII character and mixed non-ASCII text, both ways', () => {
    const alphabet = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)), 'é', 'ß', 'ñ', '中', '文', '😀'];
    const samples = alphabet.map((c) => `a${c}b`);
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 500; n++) {
      const len = 1 + (next() % 12);
      samples.push(Array.from({ length: len }, () => alphabet[next() % alphabet.length]).join(''));
    }
    for (const raw of samples) {
      const jid = `${refJidEscape(raw)}@partner.test`;
      const uri = `sip:${refSipUser(raw)}@partner.test`;
      expect(jidToSipUri(jid)).toBe(uri);
      expect(sipUriToJid(jidToSipUri(jid))).toBe(jid);
      expect(jidToSipUri(sipUriToJid(uri))).toBe(uri);
      const full = `${jid}/${raw}`;
      expect(sipUriToJid(jidToSipUri(full))).toBe(full);
    }
  });
});

describe('xmppUriToJid (RFC 5122)', () => {
  it('reads the JID of an XMPP URI, as <gone/> and <redirect/> carry it', () => {
    expect(xmppUriToJid('xmpp:alice@new.test')).toBe('alice@new.test');
    expect(xmppUriToJid(' xmpp:jos%C3%A9@new.test/phone?message ')).toBe('josé@new.test/phone');
    expect(xmppUriToJid('xmpp://me@home.test/alice@new.test#x')).toBe('alice@new.test');
    for (const bad of ['', 'alice@new.test', 'sip:alice@new.test', 'xmpp:alice@', 'xmpp:a%E4@new.test']) expect(xmppUriToJid(bad)).toBeUndefined();
  });
});

describe('bareJid / domainOf', () => {
  it('strips the resource', () => {
    expect(bareJid('alice@partner.test/phone/with/slashes')).toBe('alice@partner.test');
    expect(bareJid('partner.test/x')).toBe('partner.test');
  });
  it('finds the domain of JIDs and SIP URIs', () => {
    expect(domainOf('alice@partner.test/r@x')).toBe('partner.test');
    expect(domainOf('partner.test')).toBe('partner.test');
    expect(domainOf('sip:bob@sfb.test:5061;gr=x')).toBe('sfb.test');
    expect(domainOf('sips:bob@sfb.test')).toBe('sfb.test');
    expect(domainOf('sip:sfb.test')).toBe('sfb.test');
  });
});
