import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../src/report/results.js';
import { runCli } from '../helpers/cli-process.js';
import { describeRuntime } from '../helpers/support.js';

// ${NAME} in suites as users give them: --var, --vars files and the environment, through the
// real command line (a child process), on validate, sfb-config and a run of the simulation.

const EXAMPLE = 'scenarios/real-gateway.example.yaml';
const SAMPLE_VARS = 'scenarios/example-lab/vars.yaml';
// The example's variables without a default, in the order the file first uses them.
const EXAMPLE_NAMES = [
  'PARTNER_DOMAIN',
  'SFB_DOMAIN',
  'LAB_DNS_HOST',
  'LAB_CA',
  'PARTNER_LISTEN_HOST',
  'PARTNER_CERT',
  'PARTNER_KEY',
  'ECHO_USER',
  'WATCH_USER',
  'EDGE_FQDN',
];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'xfed-variables-cli-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('xfed validate with variables (the process)', () => {
  it('the real-gateway example: every unset variable at its file:line:col without vars, valid as shipped with its sample vars', async () => {
    const bare = await runCli(['validate', ...['real-gateway.example', 'sfb2019-cutover', 'smoke'].map((s) => `scenarios/${s}.yaml`)]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('scenarios/sfb2019-cutover.yaml: ok (28 phases, 131 checks)\nscenarios/smoke.yaml: ok (1 phase, 7 checks)\n');
    const lines = bare.stderr.trimEnd().split('\n');
    expect(lines.every((l) => /^scenarios\/real-gateway\.example\.yaml:\d+:\d+: variable [A-Z_]+ is not set/.test(l))).toBe(true);
    const firsts = lines.filter((l) => l.includes('--var'));
    expect(firsts.map((l) => /variable (\w+)/.exec(l)![1])).toEqual(EXAMPLE_NAMES);
    expect(firsts[0]).toBe(
      `${EXAMPLE}:17:14: variable PARTNER_DOMAIN is not set: give it with --var PARTNER_DOMAIN=VALUE, in a --vars file or in the environment, or write a default: \${PARTNER_DOMAIN:-VALUE}`,
    );
    // Each line points at the ${ of its variable.
    const text = (await readFile(EXAMPLE, 'utf8')).split('\n');
    for (const line of lines) {
      const [, row, col, name] = /:(\d+):(\d+): variable (\w+)/.exec(line)!;
      expect([line, text[Number(row) - 1]!.slice(Number(col) - 1).startsWith(`\${${name}`)]).toEqual([line, true]);
    }

    const shipped = await runCli(['validate', EXAMPLE, '--vars', SAMPLE_VARS]);
    expect(shipped).toEqual({ code: 0, stdout: `${EXAMPLE}: ok (3 phases, 14 checks)\n`, stderr: '' });
  });

  it('--var wins over --vars, and --vars over the environment', async () => {
    // The SfB domain made equal to the partner's is refused: that shows which value won.
    const sameDomain = "the SfB domain 'xmpp.fabrikam.example' is also a partner domain";
    const cli = await runCli(['validate', EXAMPLE, '--vars', SAMPLE_VARS, '--var', 'SFB_DOMAIN=xmpp.fabrikam.example']);
    expect([cli.code, cli.stderr]).toEqual([2, `${EXAMPLE}:21:13: ${sameDomain}; the SfB side and the partner need different domains\n`]);
    const env = await runCli(['validate', EXAMPLE, '--vars', SAMPLE_VARS], { env: { SFB_DOMAIN: 'xmpp.fabrikam.example' } });
    expect([env.code, env.stderr]).toEqual([0, '']);
    // The environment alone fills them too.
    const sample = (await readFile(SAMPLE_VARS, 'utf8'))
      .split('\n')
      .map((l) => /^(\w+): (\S+)/.exec(l))
      .filter((m) => m !== null);
    const fromEnv = await runCli(['validate', EXAMPLE], { env: Object.fromEntries(sample.map((m) => [m[1]!, m[2]!])) });
    expect([fromEnv.code, fromEnv.stderr]).toEqual([0, '']);
  });

  it('a broken --vars file or --var: its problems at file:line:col, exit 2, and no suite is judged on them', async () => {
    const broken = path.join(tmp, 'broken.vars.yaml');
    await writeFile(broken, 'SFB_DOMAIN: contoso.example\nLAB_CA:\n  - a.pem\n');
    const r = await runCli(['validate', EXAMPLE, 'scenarios/smoke.yaml', '--vars', broken, '--var', 'PASSWORD']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `${broken}:3:3: LAB_CA: a variable holds text, a number or true/false, not a list or a mapping\n--var PASSWORD: expected NAME=VALUE\n`,
    });
  });

  it('sfb-config reads the same variables', async () => {
    const r = await runCli(['sfb-config', EXAMPLE, '--vars', SAMPLE_VARS, '--var', 'SFB_DOMAIN=lab.contoso.example']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('xfed.echo@lab.contoso.example');
    expect(r.stdout).toContain('xmpp.fabrikam.example');
  });
});

describeRuntime('process', 'xfed run with variables', () => {
  it('a sim suite takes its partner domain, users and IM body from --var and --vars', async () => {
    const suite = path.join(tmp, 'vars-run.yaml');
    await writeFile(
      suite,
      `suite: vars-run
partner:
  domains: ["\${PARTNER_DOMAIN}"]
  users: ["\${PARTNER_USER}"]
target:
  sim:
    domain: \${SFB_DOMAIN:-contoso.test}
    partner: { partnerType: Federated }
    users:
      - { name: "\${SFB_USER}", pool: legacy, behaviour: echo, xmppAccess: true }
phases:
  - name: only
    checks:
      - { id: im, kind: im, from: "\${PARTNER_USER}", to: "\${SFB_USER}", body: "\${BODY}", timeout: "\${WAIT}" }
`,
    );
    const vars = path.join(tmp, 'run.vars.yaml');
    await writeFile(vars, 'PARTNER_USER: nobody\nBODY: "[not, a: list]"\nWAIT: 8000\n');
    const out = path.join(tmp, 'run-out');
    const r = await runCli(
      ['run', suite, '--vars', vars, '--var', 'PARTNER_DOMAIN=north.test', '--var', 'PARTNER_USER=carol', '--var', 'SFB_USER=frank'].concat([
        '--runtime',
        'process',
        '--reporter',
        'plain',
        '--out',
        out,
      ]),
      { timeoutMs: 120_000 },
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.summary).toMatchObject({ checks: 1, met: 1 });
    const wire = results.phases[0]!.checks[0]!.evidence.map((e) => e.wire ?? '').join('\n');
    expect(wire).toContain('carol@north.test');
    expect(wire).toContain('frank@contoso.test');
    expect(wire).toContain('[not, a: list]');
  }, 150_000);
});
