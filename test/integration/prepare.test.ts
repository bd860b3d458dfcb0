import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pollUntil } from '../../src/infra/deadline.js';
import { ensureProsodyImage, prosodyImageTag } from '../../src/prosody/runtimes/images.js';
import { ROOT, runCli } from '../helpers/cli-process.js';
import { describeRuntime } from '../helpers/support.js';

/** The base image of container tests here; others' images are never removed, only tags these tests made. */
const BASE = process.env.XFED_BASE_IMAGE ?? 'local/debian:bookworm';
/** An image build may take minutes on a cold cache; the child is killed before the test's own bound. */
const BUILD_MS = 540_000;
const TEST_MS = 600_000;
const unique = `${process.pid}-${Date.now().toString(36)}`;
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
const exists = (image: string) => docker('images', '-q', image).trim() !== '';
/** Removes tags (never an image another tag still names: `docker rmi` of a tag only untags it). */
const untag = (...images: string[]) => images.filter(exists).forEach((image) => docker('rmi', image));

/** Makes the optional testcontainers package unresolvable in the child, as in an install without it. */
const WITHOUT_TESTCONTAINERS = { env: { NODE_OPTIONS: `--import=${path.join(ROOT, 'test/fixtures/hooks/no-testcontainers.mjs')}` } };

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'prepare-test-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('xfed doctor --json', () => {
  it('prints one JSON document with the documented keys, and the exit code of doctor', async () => {
    const [json, text] = await Promise.all([runCli(['doctor', '--json']), runCli(['doctor'])]);
    expect(json.code).toBe(text.code);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['format', 'ok', 'testcontainers', 'docker', 'baseImage', 'prosodyImage', 'prosody', 'auto', 'reason']);
    expect(report).toMatchObject({
      format: 'xfed-doctor/1',
      ok: json.code === 0,
      testcontainers: { available: true, detail: expect.any(String) },
      docker: { available: expect.any(Boolean), detail: expect.any(String) },
      prosody: { available: expect.any(Boolean), detail: expect.any(String) },
      reason: expect.any(String),
    });
    // The same facts as the text: what auto picks, and why.
    expect(text.stdout).toContain(`--runtime auto picks ${report.auto as string}: ${report.reason as string}`);
    if ((report.docker as { available: boolean }).available) {
      expect(report.baseImage).toMatchObject({ image: expect.any(String), why: expect.any(String), present: expect.any(Boolean) });
      expect(report.prosodyImage).toMatchObject({ tag: expect.stringMatching(/^xfed\/prosody:[0-9a-f]{12}$/), present: expect.any(Boolean) });
    } else {
      expect(report).toMatchObject({ baseImage: null, prosodyImage: null });
    }
  });
});

describe('without the optional testcontainers package', () => {
  it('doctor says so, and --runtime auto picks the process runtime', async () => {
    const r = await runCli(['doctor', '--json'], WITHOUT_TESTCONTAINERS);
    const report = JSON.parse(r.stdout) as {
      testcontainers: { available: boolean; detail: string };
      docker: { available: boolean };
      auto: string;
      reason: string;
    };
    expect(report.testcontainers).toEqual({
      available: false,
      detail: 'the container runtime needs the testcontainers package: npm i testcontainers@12 (or use --runtime process)',
    });
    expect(report.docker.available).toBe(false);
    expect(report.auto).toBe('process');
    expect(report.reason).toMatch(/^testcontainers is not installed .*; prosody is on PATH$/);
  });

  it('--runtime container is one line naming the package, exit 2', async () => {
    const r = await runCli(['up', '--domain', 'a.test', '--runtime', 'container'], WITHOUT_TESTCONTAINERS);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('xfed: the container runtime needs the testcontainers package: npm i testcontainers@12 (or use --runtime process)\n');
  });

  it('prepare readies the process runtime and says why it skips containers', async () => {
    const r = await runCli(['prepare'], WITHOUT_TESTCONTAINERS);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}skip {2}container {7}the container runtime needs the testcontainers package/m);
    expect(r.stdout).toMatch(/^xfed prepare: ready, nothing to do; not prepared: container$/m);
  });

  it('a suite runs on the process runtime with --runtime auto', async () => {
    const out = path.join(tmp, 'smoke-without-testcontainers');
    const r = await runCli(['run', 'scenarios/smoke.yaml', '--out', out, '--reporter', 'plain'], { ...WITHOUT_TESTCONTAINERS, timeoutMs: 90_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8'))).toMatchObject({ status: 'complete', runtime: 'process' });
  });
});

describeRuntime('process', 'xfed prepare', () => {
  it('checks Prosody and lua-unbound, one line, and says ready', async () => {
    const r = await runCli(['prepare', '--runtime', 'process']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}ready prosody {9}\S+ \(Prosody \S+, lua-unbound present\)$/m);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stdout).toMatch(/^xfed prepare: ready, nothing to do$/m);
  });
});

describeRuntime('container', 'xfed prepare', () => {
  const env = { XFED_BASE_IMAGE: BASE, CI: '1' };

  it(
    'with the base image and the Prosody image present: ready, nothing to do',
    async () => {
      // The first run may build the Prosody image (others' tests use it, so it stays).
      expect((await runCli(['prepare', '--runtime', 'container'], { env, timeoutMs: BUILD_MS })).code).toBe(0);
      const r = await runCli(['prepare', '--runtime', 'container'], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`  ready base image      ${BASE} (from XFED_BASE_IMAGE)`);
      expect(r.stdout).toContain(`  ready Prosody image   ${prosodyImageTag(BASE)} on ${BASE}`);
      expect(r.stdout).toMatch(/^xfed prepare: ready, nothing to do$/m);
    },
    TEST_MS,
  );

  describe('builds', () => {
    // A base tag of its own: the Prosody image on it has its own tag, so it is built here.
    const base = `xfed-test/base-${unique}:bookworm`;
    const tag = prosodyImageTag(base);
    beforeAll(() => void docker('tag', BASE, base));
    afterAll(() => untag(tag, base));

    it(
      'the Prosody image, one line per build step, then says ready on the next run',
      async () => {
        const r = await runCli(['prepare', '--runtime', 'container', '--base-image', base], { env, timeoutMs: BUILD_MS });
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        const steps = r.stdout.split('\n').filter((l) => l.startsWith(`  building ${tag} on ${base}: step `));
        expect(steps[0]).toMatch(/: step 1\/(\d+) ARG BASE_IMAGE=/);
        expect(steps.some((l) => /: step 3\/\d+ RUN apt-get update /.test(l))).toBe(true);
        expect(steps.length).toBe(Number(/step 1\/(\d+)/.exec(steps[0]!)![1]));
        expect(r.stdout).toMatch(new RegExp(`^ {2}done {2}Prosody image {3}${tag} built on ${base} in \\d+ s$`, 'm'));
        expect(exists(tag)).toBe(true);

        const again = await runCli(['prepare', '--runtime', 'container', '--base-image', base], { env });
        expect(again.stdout).not.toContain('building');
        expect(again.stdout).toMatch(/^xfed prepare: ready, nothing to do$/m);
      },
      TEST_MS,
    );

    it(
      'a run that builds the image shows each step in plain output',
      async () => {
        untag(tag);
        const out = path.join(tmp, 'smoke-build');
        const r = await runCli(['run', 'scenarios/smoke.yaml', '--runtime', 'container', '--base-image', base, '--out', out, '--reporter', 'plain'], {
          env,
          timeoutMs: BUILD_MS,
        });
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        const lines = r.stdout.split('\n');
        const step3 = lines.findIndex((l) => /^ {2}building xfed\/prosody:[0-9a-f]{12} on .*: step 3\/\d+ RUN apt-get update /.test(l));
        const done = lines.findIndex((l) => new RegExp(`^ {2}building ${tag} on ${base}: done in \\d+ s$`).test(l));
        const ready = lines.findIndex((l) => l.startsWith('  topology ready in '));
        expect(step3).toBeGreaterThan(0);
        expect(done).toBeGreaterThan(step3);
        expect(ready).toBeGreaterThan(done);
      },
      TEST_MS,
    );
  });

  it('a base image without a shell: the failing step, its error and exit 2', async () => {
    const broken = `xfed-test/broken-${unique}:empty`;
    const dir = path.join(tmp, 'empty-rootfs');
    execFileSync('sh', ['-c', `mkdir -p "${dir}" && echo hi > "${dir}/hello" && tar -C "${dir}" -c . | docker import - ${broken}`], { stdio: 'ignore' });
    try {
      const r = await runCli(['prepare', '--runtime', 'container', '--base-image', broken], { env, timeoutMs: 120_000 });
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(
        new RegExp(
          `^ {2}no {4}Prosody image {3}building ${prosodyImageTag(broken).replace(/[/.]/g, '\\$&')} on .*failed at step 3/\\d+ RUN apt-get update .*/bin/sh`,
          'm',
        ),
      );
      expect(exists(prosodyImageTag(broken))).toBe(false);
    } finally {
      untag(broken);
    }
  });

  it('a build past its bound is cancelled and names the step it hung at, with its output', async () => {
    // A base whose apt-get prints a line and then hangs, as one behind a dead mirror does.
    const hang = `xfed-test/hang-${unique}:x`;
    const script = 'printf "#!/bin/sh\\necho fetching the package lists\\nexec sleep 600\\n" > /usr/local/bin/apt-get && chmod +x /usr/local/bin/apt-get';
    const cid = docker('create', BASE, 'sh', '-c', script).trim();
    try {
      docker('start', '-a', cid);
      docker('commit', cid, hang);
    } finally {
      docker('rm', cid);
    }
    try {
      const started = Date.now();
      await expect(ensureProsodyImage(hang, { timeoutMs: 8_000 })).rejects.toThrow(
        /^building xfed\/prosody:[0-9a-f]{12} on .* did not finish within 8 s at step 3\/\d+ RUN apt-get update .*\n {2}\| fetching the package lists$/,
      );
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(exists(prosodyImageTag(hang))).toBe(false);
      // The engine cancels the build and removes its container (it does so as the request ends).
      await pollUntil(() => (docker('ps', '-aq', '--filter', `ancestor=${hang}`).trim() === '' ? true : undefined), {
        timeoutMs: 20_000,
        intervalMs: 200,
        what: 'the cancelled build container to go',
      });
    } finally {
      untag(hang);
    }
  });

  // About 80 s (debootstrap, then an uncached apt-get build). CI makes its own base image this
  // way, through `xfed prepare` in .ci/run, on every fresh machine; this test repeats it on request.
  (process.env.XFED_TEST_DEBOOTSTRAP === '1' ? it : it.skip)(
    'a missing local/<name>:<suite> base: made with debootstrap, then the Prosody image on it (XFED_TEST_DEBOOTSTRAP=1)',
    async () => {
      const base = `local/xfed-test-${unique}:bookworm`;
      const tag = prosodyImageTag(base);
      try {
        // Its own TMPDIR: the debootstrap tree is no leftover that other tests count.
        const r = await runCli(['prepare', '--runtime', 'container', '--base-image', base], { env: { ...env, TMPDIR: tmp }, timeoutMs: BUILD_MS });
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        expect(r.stdout).toMatch(new RegExp(`^ {2}making ${base} with debootstrap bookworm: Installing core packages`, 'm'));
        expect(r.stdout).toMatch(new RegExp(`^ {2}done {2}base image {6}${base} made with debootstrap in \\d+ s$`, 'm'));
        expect(r.stdout).toMatch(new RegExp(`^ {2}done {2}Prosody image {3}${tag} built on ${base}`, 'm'));
        expect(exists(base) && exists(tag)).toBe(true);
      } finally {
        untag(tag, base);
      }
      expect(readdirSync(tmp).filter((d) => d.startsWith('xfed-rootfs-'))).toEqual([]);
    },
    TEST_MS,
  );
});
