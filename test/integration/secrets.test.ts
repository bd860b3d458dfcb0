import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withDeadline } from '../../src/infra/deadline.js';
import { freePort } from '../../src/infra/ports.js';
import { startCli } from '../helpers/cli-process.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { labSuite, PARTNER_DOMAIN, SFB_DOMAIN, startLab, type Lab } from '../helpers/gateway-lab.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

// A password planted wherever a gateway suite can carry one (each driven user's variable, the
// partner's private key file, an IM body, a hook's output) must never show: not in a file the run
// writes, not on the console, not in the argv of a process xfed starts. Run through the CLI, on
// the way that succeeds and on the ways that fail.
const ejabberd = ejabberdGate('the secrets of a gateway suite');

const planted = (who: string) => `Pl4nted-${who}-${randomBytes(9).toString('base64url')}`;

/** Every file under `dir` (or `dir` itself), read as text; a file gone meanwhile is skipped. */
function filesUnder(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (p: string) => {
    try {
      const st = statSync(p);
      if (st.isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
      else if (st.isFile()) out.push({ file: p, text: readFileSync(p, 'latin1') });
    } catch {
      // removed while we looked
    }
  };
  walk(dir);
  return out;
}

/** The pids of `root`'s descendants, from /proc's parent links. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // Field 4 of stat, after the command in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== pid) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

/** Where any of the secrets shows (any of its forms the Redactor knows is not enough: the plain text must be absent). */
function leaks(secrets: string[], places: Array<{ file: string; text: string }>): string[] {
  return places.flatMap(({ file, text }) => secrets.filter((s) => text.includes(s)).map((s) => `${file}: ${s}`));
}

for (const kind of RUNTIMES) {
  const body = () => {
    let lab: Lab;
    const xfedTemps = () => new Set(readdirSync(os.tmpdir()).filter((e) => e.startsWith('xfed-')));

    beforeAll(async () => {
      ejabberd.check();
      lab = await startLab({ tls12Only: true });
    }, 60_000);
    afterAll(() => lab?.stop());

    function suite(o: { erinPort?: number; name: string }): string {
      return labSuite(lab, {
        name: `secrets-${o.name}`,
        users: `      - { name: xfed.echo, role: echo }
      - name: erin
        role: accept
        login: { passwordEnv: XFED_SECRET_ERIN, c2s: { host: 127.0.0.1, port: ${o.erinPort ?? lab.edge.c2s.port} } }
      - name: frank
        role: echo
        login: { passwordEnv: XFED_SECRET_FRANK, c2s: { host: 127.0.0.1, port: ${lab.edge.c2s.port} } }`,
        phases: `  - name: secrets
    steps:
      - action: run
        command: 'echo "hook sees $XFED_SECRET_ERIN"; echo "at the step" > "$XFED_SECRET_FIFO_OUT"; read go < "$XFED_SECRET_FIFO_IN"; echo "$XFED_SECRET_FRANK" >&2'
    checks:
      - { id: im-erin, kind: im, from: alice, to: erin, body: "erin's password is \${ERIN}" }
      - { id: im-frank, kind: im, from: alice, to: frank, body: "frank's is \${FRANK}" }
      - { id: frank-writes, kind: im-from-sfb, from: frank, to: bob, body: "from frank: \${FRANK}" }
      - { id: unmet, kind: im, from: bob, to: erin, body: "\${ERIN} again", expect: { error: forbidden }, timeout: 2s }
`,
      });
    }

    /** Runs the suite through the CLI; while its hook step runs, samples the argv of every process xfed started and its temp dirs. */
    async function runScanned(name: string, env: Record<string, string>, secrets: string[], opts: { erinPort?: number; atStep?: boolean } = {}) {
      const fifoOut = path.join(lab.dir, `${name}.out.fifo`);
      const fifoIn = path.join(lab.dir, `${name}.in.fifo`);
      for (const f of [fifoOut, fifoIn]) if (!existsSync(f)) expect(spawnSync('mkfifo', [f]).status).toBe(0);
      const text = suite({ name, ...(opts.erinPort ? { erinPort: opts.erinPort } : {}) })
        .replaceAll('${ERIN}', env.XFED_SECRET_ERIN!)
        .replaceAll('${FRANK}', env.XFED_SECRET_FRANK!);
      const file = path.join(lab.dir, `${name}.yaml`);
      await writeFile(file, text);
      const out = path.join(lab.dir, `out-${name}-${kind}`);
      const before = xfedTemps();
      const cli = startCli(['run', file, '--runtime', kind, '--reporter', 'plain', '--assume-done', '--out', out], {
        env: { ...env, XFED_SECRET_FIFO_OUT: fifoOut, XFED_SECRET_FIFO_IN: fifoIn },
      });
      const sampled: Array<{ file: string; text: string }> = [];
      const temps: Array<{ file: string; text: string }> = [];
      let children = 0;
      if (opts.atStep) {
        // The hook opens the FIFO when the run is at it: the servers are up and the users logged in.
        await withDeadline(readFile(fifoOut, 'utf8'), 60_000, 'the run to reach its hook step');
        for (const pid of descendants(cli.child.pid!)) {
          sampled.push({ file: `argv of ${pid}`, text: cmdline(pid) });
          children++;
        }
        for (const dir of xfedTemps()) if (!before.has(dir)) temps.push(...filesUnder(path.join(os.tmpdir(), dir)));
        await withDeadline(writeFile(fifoIn, 'go\n'), 10_000, 'the hook to go on');
      }
      const exit = await cli.exit(120_000);
      const written = filesUnder(out);
      const places = [{ file: 'stdout', text: cli.stdout() }, { file: 'stderr', text: cli.stderr() }, ...written, ...sampled];
      // xfed's own temp dirs (the partner's Prosody) hold the key it serves, and no password.
      const passwords = [env.XFED_SECRET_ERIN!, env.XFED_SECRET_FRANK!];
      return {
        exit,
        stdout: cli.stdout(),
        stderr: cli.stderr(),
        written,
        temps,
        sampled,
        children,
        leaks: [...leaks(secrets, places), ...leaks(passwords, temps)],
        out,
      };
    }

    it('the run that succeeds: no password, no line of the key in its files, on its console or in its processes', async () => {
      const erin = planted('erin');
      const frank = planted('frank');
      lab.edge.setPassword('erin', erin);
      lab.edge.setPassword('frank', frank);
      const keyLines = (await readFile(path.join(lab.dir, 'partner.key'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('-----'));
      const run = await runScanned('ok', { XFED_SECRET_ERIN: erin, XFED_SECRET_FRANK: frank }, [erin, frank, ...keyLines], { atStep: true });
      expect(run.leaks).toEqual([]);
      expect([run.exit.code, run.stderr]).toEqual([1, '']);
      expect(run.stdout).toMatch(/3 of 4 checks met, 1 unmet/);
      // The run did what plants the secrets: the hook printed one, the IMs carried them.
      const results = JSON.parse(await readFile(path.join(run.out, 'results.json'), 'utf8')) as { phases: Array<{ steps: Array<{ output: string }> }> };
      expect(results.phases[0]!.steps[0]!.output).toContain('hook sees [redacted]');
      expect(run.written.map((f) => path.basename(f.file)).sort()).toEqual(['junit.xml', 'report.html', 'results.json']);
      // The bodies carried the passwords through the Edge and back: masked in the evidence.
      const evidence = JSON.stringify(results);
      expect([evidence.includes("erin's password is [redacted]"), evidence.includes("frank's is [redacted]")]).toEqual([true, true]);
      // The sample saw the run's processes: the hook's shell (and the partner's Prosody in the process runtime).
      expect(run.sampled.some((s) => s.text.includes('read go <'))).toBe(true);
      if (kind === 'process') expect(run.sampled.some((s) => /prosody.*--config/.test(s.text))).toBe(true);
      expect(run.children).toBeGreaterThan(kind === 'process' ? 1 : 0);
      // The key is where the partner's Prosody reads it, and nowhere else of xfed's.
      expect(leaks(keyLines, run.temps).map((l) => path.basename(l.split(':')[0]!))).toEqual(keyLines.map(() => `${PARTNER_DOMAIN}.key`));
    }, 180_000);

    it('the runs that fail: a wrong password, a user whose Edge is down; the error names the variable, never the value', async () => {
      const erin = planted('erin-wrong');
      const frank = planted('frank');
      lab.edge.setPassword('frank', frank);
      const wrong = await runScanned('wrong', { XFED_SECRET_ERIN: erin, XFED_SECRET_FRANK: frank }, [erin, frank]);
      expect(wrong.leaks).toEqual([]);
      expect([wrong.exit.code, wrong.stderr]).toEqual([
        2,
        `xfed: cannot log in as erin@${SFB_DOMAIN} on 127.0.0.1:${lab.edge.c2s.port} (ca: lab-ca.pem): not-authorized (Invalid username or password): check the password in $XFED_SECRET_ERIN\n`,
      ]);
      expect(JSON.parse(await readFile(path.join(wrong.out, 'results.json'), 'utf8'))).toMatchObject({ status: 'failed' });

      const down = await freePort('127.0.0.1');
      const erinRight = planted('erin');
      lab.edge.setPassword('erin', erinRight);
      const edgeDown = await runScanned('down', { XFED_SECRET_ERIN: erinRight, XFED_SECRET_FRANK: frank }, [erinRight, frank], { erinPort: down });
      expect(edgeDown.leaks).toEqual([]);
      expect(edgeDown.exit.code).toBe(2);
      expect(edgeDown.stderr).toMatch(
        new RegExp(`^xfed: cannot log in as erin@${SFB_DOMAIN} on 127\\.0\\.0\\.1:${down} \\(ca: lab-ca\\.pem\\): .*ECONNREFUSED`),
      );
    }, 180_000);

    it("the S2S Edge down under a run: the bounces carry the IMs' bodies, and still no password shows", async () => {
      const erin = planted('erin');
      const frank = planted('frank');
      lab.edge.setPassword('erin', erin);
      lab.edge.setPassword('frank', frank);
      lab.pointSrv(await freePort('127.0.0.1'));
      try {
        const run = await runScanned('s2s-down', { XFED_SECRET_ERIN: erin, XFED_SECRET_FRANK: frank }, [erin, frank], { atStep: true });
        expect(run.leaks).toEqual([]);
        expect(run.exit.code).toBe(1);
        expect(run.stdout).toMatch(/remote-server-not-found/);
      } finally {
        lab.pointSrv(lab.edge.s2s.port);
      }
    }, 180_000);
  };
  describeRuntime(kind, 'the secrets of a gateway suite', ejabberd.tests(body));
}
