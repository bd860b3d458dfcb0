// Memory and time of `xfed validate` on generated suites of 1 MB and 5 MB: each size is validated
// in a fresh process, so its peak RSS is its own. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSuites } from '../src/scenario/loader.js';

/**
 * A valid suite of about `bytes` bytes: many short phases (one SfB user, steps and checks of
 * several kinds each), or one phase with every check (a generated matrix).
 */
function generateSuite(bytes: number, shape: 'phases' | 'one phase'): string {
  const head = [
    'suite: generated',
    'partner:',
    '  domains: [partner.test]',
    '  users: [alice, bob]',
    'target:',
    '  sim:',
    '    domain: contoso.test',
    '    users:',
    '      - { name: erin, pool: legacy, xmppAccess: true }',
    '      - { name: frank, pool: legacy, behaviour: silent, xmppAccess: true }',
    'phases:',
    ...(shape === 'one phase' ? ['  - name: matrix', '    checks:'] : []),
  ].join('\n');
  const parts = [head];
  let size = head.length;
  for (let i = 0; i === 0 || size < bytes; i++) {
    const checks = [
      `      - { id: im-${i}, kind: im, from: alice, to: erin, body: "hello number ${i}", within: 2s }`,
      `      - id: presence-${i}`,
      '        kind: presence',
      '        of: erin',
      '        by: bob',
      '        show: dnd',
      `      - { id: sub-${i}, kind: subscribe, from: bob, to: frank, expect: { subscription: pending } }`,
      `      - { id: ping-${i}, kind: ping, from: alice, timeout: 3s }`,
    ];
    const phase =
      shape === 'one phase'
        ? checks.join('\n')
        : [
            `  - name: phase-${i}`,
            `    description: "generated phase ${i}, with a description long enough to look like a real one"`,
            '    steps:',
            '      - action: set-availability',
            '        user: erin',
            '        availability: Busy',
            '      - { action: network, state: slow, delay: 50ms }',
            '    checks:',
            ...checks,
          ].join('\n');
    parts.push(phase);
    size += phase.length + 1;
  }
  return `${parts.join('\n')}\n`;
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

if (process.argv[2] === '--child') {
  const file = process.argv[3]!;
  const started = performance.now();
  const { loaded, problems } = await loadSuites([file]);
  if (problems.length > 0) throw new Error(`the generated suite is not valid: ${problems.slice(0, 3).join('; ')}`);
  const suite = loaded[0]!.suite;
  const ms = performance.now() - started;
  const heap = process.memoryUsage().heapUsed;
  const checks = suite.phases.reduce((n, p) => n + (p.checks?.length ?? 0), 0);
  process.stdout.write(JSON.stringify({ ms, peakRss: process.resourceUsage().maxRSS * 1024, heap, checks }));
} else {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-bench-validate-'));
  const self = fileURLToPath(import.meta.url);
  try {
    console.log('xfed bench: validating generated suites (one fresh process each)');
    // The tiny suite shows what the process costs before any suite: tsx, zod, yaml and xfed's modules.
    const cases = [
      { size: 0, shape: 'phases' },
      { size: 1, shape: 'phases' },
      { size: 5, shape: 'phases' },
      { size: 5, shape: 'one phase' },
    ] as const;
    for (const { size, shape } of cases) {
      const file = path.join(dir, `suite-${size}mb.yaml`);
      const text = generateSuite(size * 1024 * 1024, shape);
      await writeFile(file, text);
      const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', file], { encoding: 'utf8' });
      if (child.status !== 0)
        throw new Error(
          `validating ${file} failed: ${
            child.stderr
              .trim()
              .split('\n')
              .find((l) => l.startsWith('Error')) ?? child.stderr
          }`,
        );
      const r = JSON.parse(child.stdout) as { ms: number; peakRss: number; heap: number; checks: number };
      console.log(
        `  ${(size === 0 ? 'tiny' : mb(text.length)).padStart(5)} suite, ${shape.padEnd(9)} (${String(r.checks).padStart(5)} checks): ${(r.ms / 1000).toFixed(2)} s, peak RSS ${mb(r.peakRss)}, heap after ${mb(r.heap)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
