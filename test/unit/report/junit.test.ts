import { describe, expect, it } from '@jest/globals';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderJunit } from '../../../src/report/junit.js';
import type { RunResults } from '../../../src/report/results.js';
import { loadResults } from '../../fixtures/results/load.js';

type Attrs = Record<string, string>;
interface Suite {
  attrs: Attrs;
  properties: Attrs[];
  cases: { attrs: Attrs; failure?: { attrs: Attrs; text: string }; error?: { attrs: Attrs; text: string }; out: string }[];
  out: string;
}

const ARRAYS = new Set(['testsuites.testsuite', 'testsuites.testsuite.testcase', 'testsuites.testsuite.properties.property']);

/** Parses the report with a real XML parser, into what a CI reporter would read. */
function parse(xml: string): { attrs: Attrs; suites: Suite[] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    attributesGroupName: '@',
    textNodeName: '#text',
    trimValues: false,
    parseAttributeValue: false,
    parseTagValue: false,
    htmlEntities: true,
    alwaysCreateTextNode: true,
    isArray: (_name, jpath) => ARRAYS.has(String(jpath)),
  }).parse(xml);
  type Node = { '@'?: Attrs; '#text'?: string; [k: string]: unknown };
  const root = doc.testsuites as Node;
  const text = (n: unknown) => ((n as Node | undefined)?.['#text'] ?? '') as string;
  return {
    attrs: root['@'] ?? {},
    suites: ((root.testsuite ?? []) as Node[]).map((s) => ({
      attrs: s['@'] ?? {},
      properties: (((s.properties as Node | undefined)?.property ?? []) as Node[]).map((p) => p['@'] ?? {}),
      out: text(s['system-out']),
      cases: ((s.testcase ?? []) as Node[]).map((c) => ({
        attrs: c['@'] ?? {},
        ...(c.failure ? { failure: { attrs: (c.failure as Node)['@'] ?? {}, text: text(c.failure) } } : {}),
        ...(c.error ? { error: { attrs: (c.error as Node)['@'] ?? {}, text: text(c.error) } } : {}),
        out: text(c['system-out']),
      })),
    })),
  };
}

const XML_FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

describe('renderJunit', () => {
  it('gives one testsuite per phase and one testcase per check, with the counts CI reporters read', () => {
    const { attrs, suites } = parse(renderJunit(loadResults('new.json')));
    expect(attrs).toEqual({ name: 'cutover-night', tests: '11', failures: '2', errors: '1', time: '27.480', timestamp: '2025-03-21T21:00:00' });
    expect(suites.map((s) => s.attrs.name)).toEqual(['baseline', 'move-judy', 'new-edge']);
    expect(suites.map((s) => [s.attrs.tests, s.attrs.failures, s.attrs.errors])).toEqual([
      ['5', '0', '1'],
      ['3', '1', '0'],
      ['3', '1', '0'],
    ]);
    for (const s of suites) expect(s.attrs.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    // Phases follow setup (8.15 s) and each other.
    expect(suites.map((s) => s.attrs.timestamp)).toEqual(['2025-03-21T21:00:08', '2025-03-21T21:00:13', '2025-03-21T21:00:18']);
    expect(suites[1]!.attrs.time).toBe('5.141');
    expect(suites[1]!.cases.map((c) => c.attrs)).toEqual([
      { classname: 'cutover-night.move-judy', name: 'im-judy-moved: alice IMs judy after her move', time: '0.013' },
      { classname: 'cutover-night.move-judy', name: "im-erin-after: alice IMs erin after judy's move", time: '5.012' },
      { classname: 'cutover-night.move-judy', name: 'presence-judy-moved: alice sees judy unavailable after her move', time: '0.031' },
    ]);
  });

  it('reports an unmet check as a failure and a check the harness could not run as an error', () => {
    const { suites } = parse(renderJunit(loadResults('new.json')));
    const failed = suites[1]!.cases[1]!;
    expect(failed.failure?.attrs).toEqual({ message: 'expected pass, got error remote-server-timeout "Component unavailable"', type: 'im' });
    expect(failed.failure?.text).toContain('text:     Component unavailable');
    expect(failed.error).toBeUndefined();
    const errored = suites[0]!.cases[4]!;
    expect(errored.failure).toBeUndefined();
    expect(errored.error?.attrs).toEqual({
      message: 'could not log in alice@partner.test/xfed-2: stream error conflict (resource already bound)',
      type: 'harness',
    });
    expect(suites[0]!.cases.slice(0, 4).every((c) => !c.failure && !c.error)).toBe(true);
  });

  it('files a silence of the system under test as a <failure> with its diagnosis, and a broken harness as an <error>', () => {
    const r = loadResults('new.json');
    const silent = r.phases[1]!.checks[1]!;
    Object.assign(silent, {
      failure: 'federation',
      outcome: { status: 'fail', detail: { answer: 'none' }, text: 'timed out after 2000 ms waiting for the echo' },
      actual: 'answer none ("timed out after 2000 ms waiting for the echo")',
      diagnosis: "the partner's stream to the Edge never came up",
    });
    delete silent.error;
    const broken = r.phases[1]!.checks[0]!;
    Object.assign(broken, { met: false, failure: 'harness', error: "xfed's partner Prosody (partner.test) has exited", actual: 'harness failure' });
    const { suites } = parse(renderJunit(r));
    const [brokenCase, silentCase] = suites[1]!.cases;
    expect(silentCase!.error).toBeUndefined();
    expect(silentCase!.failure?.attrs.message).toBe('expected pass, got answer none ("timed out after 2000 ms waiting for the echo")');
    expect(silentCase!.failure?.text).toContain("diagnosis: the partner's stream to the Edge never came up");
    expect(brokenCase!.failure).toBeUndefined();
    expect(brokenCase!.error?.attrs).toEqual({ message: "xfed's partner Prosody (partner.test) has exited", type: 'harness' });
  });

  it('puts the evidence ladder in system-out, wire text indented, SIP CRLF as lines, ]]> intact', () => {
    const { suites } = parse(renderJunit(loadResults('base.json')));
    const out = suites[0]!.cases[0]!.out;
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^\+0\.0 ms {2}partner-user -> partner-server {2}message chat {2}\[xmpp\] \(alice@partner\.test\)$/);
    expect(lines).toContain('    MESSAGE sip:erin@contoso.test SIP/2.0');
    expect(lines).toContain('    Call-ID: m1@gw.contoso.test');
    expect(out).not.toContain('\r');
    // The SIP body carries the raw text, CDATA terminator included.
    expect(lines).toContain('    Grüße aus München 🎉 — is 5 < 6 && "ok"? <b>bold</b> ]]> done');
    expect(suites[2]!.cases[0]!.out).toMatch(/\+\d+\.\d ms {2}partner-server \(note\) +SRV _xmpp-server\._tcp\.contoso\.test {2}\[dns\]/);
  });

  it('lists the steps of a phase as properties and in its system-out, with the run status', () => {
    const r = loadResults('new.json');
    r.status = 'interrupted';
    r.reason = 'SIGINT during phase new-edge';
    r.phases[2]!.steps[1] = { ...r.phases[2]!.steps[1]!, ok: false, error: 'DNS server did not answer' };
    const { suites } = parse(renderJunit(r));
    const props = Object.fromEntries(suites[2]!.properties.map((p) => [p.name, p.value]));
    expect(props).toMatchObject({
      'xfed.status': 'interrupted',
      'xfed.reason': 'SIGINT during phase new-edge',
      'xfed.step.2': 'replace-edge: Replace the legacy Edge with the 2019 Edge (no XMPP proxy) (ok, 1.2 s)',
      'xfed.step.3': 'srv-record: Point _xmpp-server._tcp.contoso.test at sfb2019-edge (failed: DNS server did not answer, 42 ms)',
    });
    expect(suites[2]!.out).toContain('run interrupted: SIGINT during phase new-edge');
    expect(suites[2]!.out).toContain('step 3 srv-record: Point');
    expect(suites[0]!.out).toContain('no steps');
  });

  it('keeps hostile text intact: ]]>, markup, quotes, newlines, emoji; strips what XML 1.0 forbids', () => {
    const hostile = 'a]]>b <x y="1"> & \'q\' "dq" ]]]]> 🎉 Grüße\u0000\u0007\u001b[2J\ud800\uFFFE end';
    const clean = 'a]]>b <x y="1"> & \'q\' "dq" ]]]]> 🎉 Grüße[2J end';
    const r: RunResults = loadResults('new.json');
    const c = r.phases[1]!.checks[1]!;
    c.title = `title ${hostile}`;
    c.actual = `line1\nline2 ${hostile}`;
    c.outcome.text = hostile;
    c.evidence[0]!.wire = `<message><body>${hostile}</body></message>\r\n]]>`;
    c.evidence[0]!.label = hostile;
    r.phases[1]!.name = `move <judy> & "co"`;
    const xml = renderJunit(r);
    expect(xml).not.toMatch(XML_FORBIDDEN);
    const { suites } = parse(xml);
    const tc = suites[1]!.cases[1]!;
    expect(suites[1]!.attrs.name).toBe('move <judy> & "co"');
    expect(tc.attrs.classname).toBe('cutover-night.move <judy> & "co"');
    expect(tc.attrs.name).toBe(`im-erin-after: title ${clean}`);
    expect(tc.failure?.attrs.message).toBe(`expected pass, got line1\nline2 ${clean}`);
    expect(tc.failure?.text).toContain(`text:     ${clean}`);
    expect(tc.out).toContain(`[xmpp] (alice@partner.test)\n    <message><body>${clean}</body></message>\n    ]]>\n`);
    expect(tc.out).toContain(`  ${clean}  [xmpp]`);
  });

  it('stays well-formed for an empty run', () => {
    const r = loadResults('base.json');
    r.phases = [];
    r.status = 'failed';
    r.reason = 'partner did not start';
    const { attrs, suites } = parse(renderJunit(r));
    expect(attrs.tests).toBe('0');
    expect(suites).toEqual([]);
  });
});
