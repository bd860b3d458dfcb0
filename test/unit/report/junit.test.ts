import { describe, expect, it } from '@jest/globals';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderJunit } from '../../../src/report/junit.js';
import type { RunResults } from '../../../src/report/results.js';
import { loadResults } from '../../fixtures/results/load.js';

type Attrs = Record<string, string>;
interface Suite {
  attrs: Attrs;
  properties: Attrs[];
  /** The testcases of its checks, in order. */
  cases: Case[];
  /** The testcases of its steps (`step N: action`), in order. */
  steps: Case[];
  out: string;
}
interface Case {
  attrs: Attrs;
  failure?: { attrs: Attrs; text: string };
  error?: { attrs: Attrs; text: string };
  skipped?: { attrs: Attrs };
  out: string;
}

const ARRAYS = new Set(['testsuites.testsuite', 'testsuites.testsuite.testcase', 'testsuites.testsuite.properties.property']);

/** Parses the report with a real XML parser, into what a CI reporter would read. */
function parse(xml: string): { attrs: Attrs; suites: Suite[] } {
  const { attrs, suites } = parseAll(xml);
  return { attrs, suites: suites.map((s) => ({ ...s, cases: s.all.filter((c) => !isStep(c)), steps: s.all.filter(isStep) })) };
}

const isStep = (c: Case): boolean => /^step \d+: /.test(c.attrs.name ?? '');

function parseAll(xml: string): { attrs: Attrs; suites: (Omit<Suite, 'cases' | 'steps'> & { all: Case[] })[] } {
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
      all: ((s.testcase ?? []) as Node[]).map((c) => ({
        attrs: c['@'] ?? {},
        ...(c.failure ? { failure: { attrs: (c.failure as Node)['@'] ?? {}, text: text(c.failure) } } : {}),
        ...(c.error ? { error: { attrs: (c.error as Node)['@'] ?? {}, text: text(c.error) } } : {}),
        ...(c.skipped ? { skipped: { attrs: (c.skipped as Node)['@'] ?? {} } } : {}),
        out: text(c['system-out']),
      })),
    })),
  };
}

const XML_FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

describe('renderJunit', () => {
  it('gives one testsuite per phase and one testcase per step and per check, with the counts CI reporters read', () => {
    const { attrs, suites } = parse(renderJunit(loadResults('new.json'), 'ci-runner-7'));
    expect(attrs).toEqual({ name: 'cutover-night', tests: '14', failures: '2', errors: '1', time: '27.480' });
    expect(suites.map((s) => s.attrs.name)).toEqual(['baseline', 'move-judy', 'new-edge']);
    expect(suites.map((s) => [s.attrs.tests, s.attrs.failures, s.attrs.errors, s.attrs.skipped])).toEqual([
      ['5', '0', '1', '0'],
      ['4', '1', '0', '0'],
      ['5', '1', '0', '0'],
    ]);
    expect(suites.map((s) => [s.attrs.hostname, s.attrs.file])).toEqual(Array(3).fill(['ci-runner-7', 'suites/cutover-night.yaml']));
    for (const s of suites) expect(s.attrs.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    // Phases follow setup (8.15 s) and each other.
    expect(suites.map((s) => s.attrs.timestamp)).toEqual(['2025-03-21T21:00:08', '2025-03-21T21:00:13', '2025-03-21T21:00:18']);
    expect(suites[1]!.attrs.time).toBe('5.141');
    expect(suites[1]!.cases.map((c) => c.attrs)).toEqual([
      { classname: 'cutover-night.move-judy', name: 'im-judy-moved', time: '0.013' },
      { classname: 'cutover-night.move-judy', name: 'im-erin-after', time: '5.012' },
      { classname: 'cutover-night.move-judy', name: 'presence-judy-moved', time: '0.031' },
    ]);
    // The name is the id, stable when a title is edited; the title leads the system-out.
    expect(suites[1]!.cases[0]!.out).toMatch(/^alice IMs judy after her move\n/);
    // Named by the step's index (from 0 in results.json, from 1 here): the fixture's are 2 and 3.
    expect(suites[2]!.steps.map((c) => c.attrs.name)).toEqual(['step 3: replace-edge', 'step 4: srv-record']);
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
    // The title first, then the ladder.
    const lines = out.split('\n').slice(2);
    expect(lines[0]).toMatch(/^\+0\.0 ms {2}partner-user -> partner-server {2}message chat {2}\[xmpp\] \(alice@partner\.test\)$/);
    expect(lines).toContain('    MESSAGE sip:erin@contoso.test SIP/2.0');
    expect(lines).toContain('    Call-ID: m1@gw.contoso.test');
    expect(out).not.toContain('\r');
    // The SIP body carries the raw text, CDATA terminator included.
    expect(lines).toContain('    Grüße aus München 🎉 — is 5 < 6 && "ok"? <b>bold</b> ]]> done');
    expect(suites[2]!.cases[0]!.out).toMatch(/\+\d+\.\d ms {2}partner-server \(note\) +SRV _xmpp-server\._tcp\.contoso\.test {2}\[dns\]/);
  });

  it('makes a failed step a failing testcase, and lists the steps in the phase system-out with the run status', () => {
    const r = loadResults('new.json');
    r.status = 'failed';
    r.reason = 'step 2 of phase new-edge failed';
    r.phases[2]!.steps[1] = { ...r.phases[2]!.steps[1]!, ok: false, error: 'DNS server did not answer', file: 'suites/cutover-night.yaml', line: 41 };
    const { attrs, suites } = parse(renderJunit(r));
    const props = Object.fromEntries(suites[2]!.properties.map((p) => [p.name, p.value]));
    expect(props).toMatchObject({ 'xfed.status': 'failed, 2 unmet, 1 harness failure', 'xfed.reason': 'step 2 of phase new-edge failed' });
    const failed = suites[2]!.steps[1]!;
    expect(failed.attrs).toEqual({
      name: 'step 4: srv-record',
      classname: 'cutover-night.new-edge',
      file: 'suites/cutover-night.yaml',
      line: '41',
      time: '0.042',
    });
    expect(failed.failure?.attrs).toEqual({ message: 'step failed: DNS server did not answer', type: 'step' });
    expect(suites[2]!.attrs.failures).toBe('2');
    expect(attrs.failures).toBe('3');
    expect(suites[2]!.out).toContain('run failed: step 2 of phase new-edge failed');
    expect(suites[2]!.out).toContain('step 4 srv-record: Point _xmpp-server._tcp.contoso.test at sfb2019-edge (failed: DNS server did not answer, 42 ms)');
    expect(suites[0]!.out).toContain('no steps');
  });

  it('makes checks and steps that did not run <skipped> with the reason, counted apart, with their file and line', () => {
    const r = loadResults('new.json');
    const phase = r.phases[2]!;
    phase.steps[1] = { ...phase.steps[1]!, ok: false, durationMs: 0, skipped: 'the run stopped before it: interrupted by SIGINT', file: 's.yaml', line: 40 };
    phase.checks = phase.checks.map((c, i) => ({
      ...c,
      met: false,
      durationMs: 0,
      evidence: [],
      skipped: i === 0 ? 'filtered out by --grep im' : 'the run stopped before it: interrupted by SIGINT',
      file: 's.yaml',
      line: 50 + i,
    }));
    for (const c of phase.checks) delete c.failure;
    r.status = 'interrupted';
    const { attrs, suites } = parse(renderJunit(r));
    expect(suites[2]!.steps[1]!.skipped?.attrs).toEqual({ message: 'not applied: the run stopped before it: interrupted by SIGINT' });
    expect(suites[2]!.cases.map((c) => [c.attrs.line, c.skipped?.attrs.message])).toEqual([
      ['50', 'not run: filtered out by --grep im'],
      ['51', 'not run: the run stopped before it: interrupted by SIGINT'],
      ['52', 'not run: the run stopped before it: interrupted by SIGINT'],
    ]);
    expect([suites[2]!.attrs.tests, suites[2]!.attrs.failures, suites[2]!.attrs.errors, suites[2]!.attrs.skipped]).toEqual(['5', '0', '0', '4']);
    // The same number of testcases as a complete run: a CI's history keeps every test.
    expect(attrs.tests).toBe('14');
    expect(suites.reduce((n, s) => n + Number(s.attrs.skipped), 0)).toBe(4);
  });

  it('adds an <error> testcase saying why when a run ended early and no testcase failed', () => {
    const r = loadResults('base.json');
    r.status = 'interrupted';
    r.reason = 'interrupted by SIGTERM';
    for (const c of r.phases.flatMap((p) => p.checks)) {
      Object.assign(c, { met: true });
      delete c.failure;
      delete c.error;
    }
    const { attrs, suites } = parse(renderJunit(r));
    expect(suites[0]!.attrs).toMatchObject({ name: '(run)', tests: '1', errors: '1' });
    expect(suites[0]!.cases[0]!.attrs).toMatchObject({ name: 'run', classname: 'cutover-night.(run)' });
    expect(suites[0]!.cases[0]!.error?.attrs).toEqual({ message: 'the run interrupted: interrupted by SIGTERM', type: 'run' });
    expect(attrs).toMatchObject({ tests: '15', errors: '1' });
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
    expect(tc.attrs.name).toBe('im-erin-after');
    expect(tc.out).toContain(`title ${clean}\n`);
    expect(tc.failure?.attrs.message).toBe(`expected pass, got line1\nline2 ${clean}`);
    expect(tc.failure?.text).toContain(`text:     ${clean}`);
    expect(tc.out).toContain(`[xmpp] (alice@partner.test)\n    <message><body>${clean}</body></message>\n    ]]>\n`);
    expect(tc.out).toContain(`  ${clean}  [xmpp]`);
  });

  it('says why a run that stopped before its first check failed, in a testcase of its own', () => {
    const r = loadResults('base.json');
    r.phases = [];
    r.status = 'failed';
    r.reason = 'partner did not start';
    const { attrs, suites } = parse(renderJunit(r));
    expect(attrs).toMatchObject({ tests: '1', failures: '0', errors: '1' });
    expect(suites.map((s) => s.attrs.name)).toEqual(['(setup)']);
    expect(suites[0]!.cases[0]!.error?.attrs).toEqual({ message: 'the run stopped before its first step or check: partner did not start', type: 'setup' });
  });
});
