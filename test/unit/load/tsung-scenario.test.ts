import { expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsungStampOf } from '../../../src/load/tsung/engine.js';
import { renderScenario, renderUsers, schedules } from '../../../src/load/tsung/scenario.js';
import type { LoadPlan } from '../../../src/load/profile.js';
import { describeWithTool } from '../../helpers/tool-gate.js';

const TSUNG_EBIN = '/usr/lib/x86_64-linux-gnu/tsung/tsung-1.7.0/ebin';

function plan(over: Partial<LoadPlan['profile']> = {}): LoadPlan {
  return {
    profile: { users: 3, domains: 2, rate: 4, durationMs: 2_000, rampMs: 1_500, presenceChurn: 1, subscribe: true, graceMs: 1_000, ...over },
    c2s: { host: '127.0.0.1', port: 5222 },
    trustPem: '',
    trustPath: '/tmp/trust & "ca".pem',
    domains: ['partner.test', 'load2.partner.test'],
    users: [
      { jid: 'load-00001@partner.test', password: 'pw1', contact: "o'hara@contoso.test" },
      { jid: 'load-00002@load2.partner.test', password: 'pw<2>', contact: 'echo2@contoso.test' },
      { jid: 'load-00003@partner.test', password: 'pw3', contact: 'echo1@contoso.test' },
    ],
    contacts: ["o'hara@contoso.test", 'echo2@contoso.test', 'echo1@contoso.test'],
    workDir: '/tmp/x',
  };
}

/** The Erlang code of the scenario's `setdynvars sourcetype="eval"` elements, unescaped. */
function evalCodes(xml: string): string[] {
  return [...xml.matchAll(/sourcetype="eval" code="([^"]*)"/g)].map((m) =>
    m[1]!
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&'),
  );
}

describeWithTool('tsung', 'the Tsung scenario of a load plan', () => {
  it("is valid against Tsung's DTD, with one client per host and its nodes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'xfed-tsung-'));
    try {
      const xml = renderScenario(plan(), { hosts: ['127.0.0.2', '127.0.0.3'], nodesPerHost: 2, usersPath: join(dir, 'users.csv') });
      writeFileSync(join(dir, 'tsung.xml'), xml);
      // xmllint exits non-zero, with the line, on anything the DTD does not allow.
      execFileSync('xmllint', ['--noout', '--valid', join(dir, 'tsung.xml')], { stdio: 'pipe' });
      expect(xml).toContain('<client host="127.0.0.2" cpu="2" maxusers="6" use_controller_vm="false"/>');
      expect(xml).toContain('<client host="127.0.0.3" cpu="2"');
      expect(xml).toContain('<server host="127.0.0.1" port="5222" type="tcp"/>');
      expect(xml).toContain('cacertfile="/tmp/trust &amp; &quot;ca&quot;.pem"');
      expect(xml).toContain('maxnumber="3"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves out the subscription when the profile has none', () => {
    const opts = { hosts: ['127.0.0.1'], nodesPerHost: 1, usersPath: '/u.csv' };
    expect(renderScenario(plan(), opts)).toContain('type=&apos;subscribe&apos;');
    expect(renderScenario(plan({ subscribe: false }), opts)).not.toContain('type=&apos;subscribe&apos;');
  });

  it("spreads the open model's IMs and presence changes round-robin, each due at i / rate", () => {
    const s = schedules(plan());
    // 4/s for 2 s: 8 IMs; 1/s: 2 presence changes.
    expect(s.flat().filter((e) => e.kind === 'm')).toHaveLength(8);
    expect(s.flat().filter((e) => e.kind === 'p')).toHaveLength(2);
    expect(s[0]).toEqual([
      { kind: 'm', atMs: 0 },
      { kind: 'p', atMs: 0 },
      { kind: 'm', atMs: 750 },
      { kind: 'm', atMs: 1500 },
    ]);
    expect(s[1]!.map((e) => e.atMs)).toEqual([250, 1000, 1000, 1750]);
  });

  it('gives each user his line: the SASL PLAIN blob of his password, his contact escaped for XML, his schedule', () => {
    const lines = renderUsers(plan()).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const [local, domain, blob, contact, events, schedule] = lines[1]!.split('\t');
    expect([local, domain]).toEqual(['load-00002', 'load2.partner.test']);
    expect(Buffer.from(blob!, 'base64').toString()).toBe('\0load-00002\0pw<2>');
    expect(contact).toBe('echo2@contoso.test');
    expect(events).toBe('4');
    expect(schedule).toBe('m250,m1000,p1000,m1750');
    expect(lines[0]!.split('\t')[3]).toBe('o&apos;hara@contoso.test');
    const quiet = renderUsers({ ...plan({ rate: 1, durationMs: 1_000, presenceChurn: 0 }) })
      .trimEnd()
      .split('\n');
    expect(quiet[2]!.split('\t').slice(4)).toEqual(['0', 'none']);
  });

  it('refuses a value that would break the CSV', () => {
    const p = plan();
    const bad = { ...p, users: [{ ...p.users[0]!, contact: 'a\tb@contoso.test' }] };
    expect(() => renderUsers(bad)).toThrow(/a tab or a line break/);
  });

  it("stamps each IM with its due time in Tsung's format, which tsungStampOf reads back (run in Erlang with Tsung's modules)", () => {
    const xml = renderScenario(plan(), { hosts: ['127.0.0.1'], nodesPerHost: 1, usersPath: '/u.csv' });
    const codes = evalCodes(xml);
    const parse = codes.find((c) => c.includes('list_to_tuple'))!;
    const next = codes.find((c) => c.includes('Stamp'))!;
    const t0 = 1796010870000;
    const program = [
      `P = ts_utils:eval(${JSON.stringify(parse)}),`,
      `F = ts_utils:eval(${JSON.stringify(next)}),`,
      'Plan = P({undefined, ts_dynvars:new([schedule], [<<"m0,p500,m1399">>])}),',
      `D = ts_dynvars:new([t0, plan, i], [${t0}, Plan, 3]),`,
      '[K, Wait, Stamp, Show, Due] = F({undefined, D}),',
      'io:format("~s|~s|~s|~s|~p~n", [K, Wait, Stamp, Show, Due]),',
      'halt().',
    ].join(' ');
    const out = execFileSync('erl', ['-noshell', '-pa', TSUNG_EBIN, '-eval', program], { encoding: 'utf8', timeout: 20_000 }).trim();
    const [kind, wait, stamp, show, due] = out.split('|');
    expect(kind).toBe('m');
    // Due long ago: no wait.
    expect(wait).toBe('0.000');
    expect(show).toBe('away');
    expect(Number(due)).toBe(t0 + 1399);
    expect(stamp).toMatch(/^@@@\d+,1796;10871;399000@@@$/);
    expect(tsungStampOf(`${stamp}`)).toBe(t0 + 1399);
  });

  it('reads a stamp anywhere in a body, and nothing from other bodies', () => {
    expect(tsungStampOf('@@@32766017,1796;10870;399000@@@')).toBe(1796010870399);
    expect(tsungStampOf('x @@@1,0;5;1500@@@ y')).toBe(5001);
    expect(tsungStampOf('xfed-load 12 1796010870399')).toBeUndefined();
    expect(tsungStampOf('@@@1,a;b;c@@@')).toBeUndefined();
  });
});
