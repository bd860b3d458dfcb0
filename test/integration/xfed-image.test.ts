import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pollUntil, withDeadline } from '../../src/infra/deadline.js';
import type { RunResults } from '../../src/report/results.js';
import { ROOT, runCli } from '../helpers/cli-process.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { startLab, type Lab } from '../helpers/gateway-lab.js';
import { describeRuntime } from '../helpers/support.js';

/**
 * xfed's own image (docker/xfed/Dockerfile, scripts/xfed-image.sh): xfed from its packed tarball,
 * running the process runtime inside the container. The script packs xfed and reuses the image
 * when its tag already holds the same content: on a 2-core machine this file takes about 25 s when
 * nothing changed (the pack about 10 s, each run in the container 2 to 3 s), about 40 s after a
 * change to xfed (Debian's layer stays cached), and about 25 s more on a first build.
 */
const execFileAsync = promisify(execFile);
const VERSION = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const TAG = `xfed:${VERSION}`;
const BUILD_MS = 900_000;
/** Every container this file starts, removed at the end whatever happened. */
const containers: string[] = [];
const hostUser = `${process.getuid!()}:${process.getgid!()}`;

let tmp: string;
beforeAll(async () => {
  // Not named xfed-*: that is how leftovers of xfed runs are counted.
  tmp = await mkdtemp(path.join(os.tmpdir(), 'image-test-'));
});
afterAll(async () => {
  if (containers.length) await execFileAsync('docker', ['rm', '-f', ...containers], { timeout: 30_000 }).catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

const docker = async (args: string[], timeoutMs = 60_000) => (await execFileAsync('docker', args, { encoding: 'utf8', timeout: timeoutMs })).stdout;
const readResults = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as RunResults;

/** `docker run --rm` of a named container as a child process, its exit awaited with a bound. */
function dockerRun(args: string[]) {
  const name = `image-test-${process.pid}-${containers.length}`;
  containers.push(name);
  const child = spawn('docker', ['run', '--rm', '--name', name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    output: () => output,
    ended: () => child.exitCode !== null || child.signalCode !== null,
    exit: (ms: number) => withDeadline(exited, ms, `docker run ${args.join(' ')}`),
  };
}

describeRuntime('container', "xfed's own image", () => {
  beforeAll(async () => {
    const { stdout } = await execFileAsync('bash', [path.join(ROOT, 'scripts', 'xfed-image.sh'), '--tag', TAG, '--node', process.execPath], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: BUILD_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    process.stderr.write(
      `xfed-image test: ${stdout
        .split('\n')
        .filter((l) => l.startsWith('xfed-image:'))
        .join('; ')}\n`,
    );
  }, BUILD_MS);

  it('says its version and carries the OCI labels', async () => {
    expect((await docker(['run', '--rm', TAG, '--version'])).trim()).toBe(VERSION);
    const labels = JSON.parse(await docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', TAG])) as Record<string, string>;
    expect(labels).toMatchObject({
      'org.opencontainers.image.title': 'xfed',
      'org.opencontainers.image.version': VERSION,
      'org.opencontainers.image.licenses': 'MIT',
    });
    expect(labels['org.xfed.content-hash']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('xfed doctor inside it picks the process runtime and advises nothing to install', async () => {
    const doctor = await docker(['run', '--rm', TAG, 'doctor']);
    expect(doctor).toContain("--runtime auto picks process: xfed's image runs Prosody as a process; prosody is on PATH");
    expect(doctor).not.toMatch(/npm i|apt-get/);
  });

  it('runs the smoke suite from a mounted folder with the process runtime, and the results belong to the user who ran it', async () => {
    const suites = path.join(tmp, 'smoke');
    await mkdir(suites);
    await copyFile(path.join(ROOT, 'scenarios', 'smoke.yaml'), path.join(suites, 'smoke.yaml'));
    const run = dockerRun(['--user', hostUser, '-v', `${suites}:/suites`, TAG, 'run', '/suites/smoke.yaml', '--out', '/suites/results', '--reporter', 'plain']);
    expect({ code: await run.exit(120_000), output: run.output() }).toMatchObject({ code: 0 });
    const out = path.join(suites, 'results');
    const results = await readResults(out);
    expect(results).toMatchObject({ status: 'complete', runtime: 'process', summary: { checks: 7, met: 7, unmet: 0 } });
    for (const file of ['results.json', 'junit.xml', 'report.html']) {
      const { uid, size } = await stat(path.join(out, file));
      expect({ file, uid, written: size > 0 }).toEqual({ file, uid: process.getuid!(), written: true });
    }
  }, 150_000);

  it('docker stop while the run waits for the operator: xfed stops its Prosody processes, exits 143 and says interrupted', async () => {
    // The image's own user (uid 1000) this time, in a folder anyone may write; the run's /tmp is
    // mounted too, to see what it leaves there.
    const suites = path.join(tmp, 'stop');
    const runTmp = path.join(suites, 'tmp');
    await mkdir(runTmp, { recursive: true });
    await execFileAsync('chmod', ['0777', suites, runTmp]);
    await writeFile(
      path.join(suites, 'cutover.yaml'),
      [
        'suite: cutover',
        'partner: { domains: [partner.test], users: [alice] }',
        'target:',
        '  sim:',
        '    domain: contoso.test',
        '    partner: { partnerType: Federated }',
        '    users: [{ name: erin, pool: legacy, behaviour: echo, xmppAccess: true }]',
        'phases:',
        '  - name: cutover',
        '    steps: [{ action: manual, instruction: Move-CsUser the pilot users, timeout: 30m }]',
        '    checks: [{ id: ping, kind: ping, from: alice }]',
        '',
      ].join('\n'),
    );
    // -t: a terminal, so the manual step waits for Enter as it does for an operator.
    const run = dockerRun(['-t', '-v', `${suites}:/suites`, '-v', `${runTmp}:/tmp`, TAG, 'run', 'cutover.yaml', '--out', 'results']);
    const container = run.name;
    // The command lines in the container (docker top wants a PID column; the arguments follow it).
    const inside = async () =>
      (await docker(['top', container, '-eo', 'pid,args']).catch(() => '')).split('\n').map((line) => line.trim().replace(/^\d+\s+/, ''));
    await pollUntil(
      () => {
        if (run.ended()) throw new Error(`the run ended before its manual step: ${run.output()}`);
        return run.output().includes('press Enter when it is done') ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `the manual step's prompt from ${container}` },
    );
    expect((await inside()).filter((a) => a.includes('prosody -F --config'))).toHaveLength(2);

    // The container's PIDs mean nothing on the host: a sweep there (any xfed run starts one) must
    // not take its processes for those of a dead run, whose owner id they carry.
    const owner = (await readdir(path.join(runTmp, `.xfed-owners-1000`))).find((f) => f.endsWith('.json'))!.slice(0, -'.json'.length);
    const clean = await runCli(['clean', '--dry-run']);
    expect(clean.stdout).not.toContain(owner);
    expect((await inside()).filter((a) => a.includes('prosody -F --config'))).toHaveLength(2);

    await docker(['stop', container]);
    expect({ code: await run.exit(30_000), output: run.output() }).toMatchObject({ code: 143 });
    expect(await readResults(path.join(suites, 'results'))).toMatchObject({ status: 'interrupted', reason: 'interrupted by SIGTERM' });
    // Torn down by xfed, not only by the container's end: no work directory, and no owner marker,
    // which lists each Prosody process until it has exited.
    const left = await readdir(runTmp, { recursive: true });
    expect(left.filter((name) => name.startsWith('xfed-') || name.endsWith('.json'))).toEqual([]);
    expect(await docker(['ps', '-aq', '--filter', `name=^${container}$`])).toBe('');
  }, 150_000);

  // A lab on this machine's loopback (ejabberd standing in for the legacy Edge, gateway-lab.ts):
  // with the host's network, the partner inside the container listens where the Edge reaches it.
  const ejabberd = ejabberdGate("a gateway suite in xfed's own image");
  describe(
    'a gateway suite with --network host',
    ejabberd.tests(() => {
      let lab: Lab;
      beforeAll(async () => {
        ejabberd.check();
        lab = await startLab();
      }, 60_000);
      afterAll(() => lab?.stop());

      // As the README says: the lab's address, or every interface of the container (0.0.0.0)
      // where the port is published with -p instead (Docker Desktop).
      for (const listen of ['127.0.0.1', '0.0.0.0']) {
        it(`the real-gateway example, filled in with the lab, runs unchanged inside the image, the partner listening on ${listen}: every check met`, async () => {
          const { file, vars } = await lab.fillExample();
          const out = `results-${listen}`;
          const run = dockerRun([
            '--network',
            'host',
            '--user',
            hostUser,
            '-v',
            `${lab.dir}:/suites`,
            TAG,
            'run',
            path.basename(file),
            '--vars',
            path.basename(vars),
            '--var',
            `PARTNER_LISTEN_HOST=${listen}`,
            '--assume-done',
            '--out',
            out,
            '--reporter',
            'plain',
          ]);
          expect({ code: await run.exit(120_000), output: run.output() }).toMatchObject({ code: 0 });
          const results = await readResults(path.join(lab.dir, out));
          expect(results).toMatchObject({ status: 'complete', target: 'gateway', runtime: 'process', summary: { checks: 14, met: 14, unmet: 0 } });
        }, 150_000);
      }
    }),
  );
});
