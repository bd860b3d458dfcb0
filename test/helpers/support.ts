import { describe } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { dockerEngine } from '../../src/prosody/runtimes/container.js';
import { findProsodyBinary } from '../../src/prosody/runtimes/process.js';
import type { RuntimeKind } from '../../src/prosody/types.js';

/**
 * Both runtimes are exercised wherever they are available. One that is not is reported as
 * skipped with the reason in the test name, never silently; with XFED_REQUIRE_RUNTIMES (CI sets
 * it) a missing runtime fails the run instead.
 */
async function availability(): Promise<Record<RuntimeKind, string | undefined>> {
  const bin = findProsodyBinary();
  const docker = await dockerEngine();
  return {
    process: !bin ? 'no prosody binary on PATH (apt-get install prosody lua-unbound)' : bin.unbound ? undefined : 'prosody has no lua-unbound',
    container: docker.available ? undefined : `no Docker engine answers (${docker.detail})`,
  };
}

const missing = await availability();
const required = (process.env.XFED_REQUIRE_RUNTIMES ?? '').split(',').filter(Boolean);
const selected = (process.env.XFED_TEST_RUNTIMES ?? 'process,container').split(',').filter(Boolean) as RuntimeKind[];

export const RUNTIMES: RuntimeKind[] = ['process', 'container'];

export function describeRuntime(kind: RuntimeKind, name: string, body: () => void): void {
  const reason = !selected.includes(kind) ? `not selected by XFED_TEST_RUNTIMES=${process.env.XFED_TEST_RUNTIMES}` : missing[kind];
  if (reason && required.includes(kind)) {
    describe(`${name} [${kind}]`, () => {
      throw new Error(`the ${kind} runtime is required (XFED_REQUIRE_RUNTIMES) but unavailable: ${reason}`);
    });
    return;
  }
  if (reason) {
    process.stderr.write(`xfed tests: ${name} [${kind}] skipped: ${reason}\n`);
    describe.skip(`${name} [${kind}] (skipped: ${reason})`, body);
    return;
  }
  describe(`${name} [${kind}]`, body);
}

/** What xfed could leave behind, counted from the outside. */
export interface Leftovers {
  prosodyProcesses: number;
  containers: number;
  networks: number;
  tempDirs: number;
}

/**
 * What xfed left, counted from the outside: everything on the machine, or with `ownerPid` only
 * what that xfed process made (its pid is in the names of its work directories, networks and
 * Prosody configs, and in its containers' labels), which other tests running beside it leave alone.
 */
export function countLeftovers(o: { ownerPid?: number } = {}): Leftovers {
  const sh = (file: string, args: string[]) => {
    try {
      return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    } catch {
      return '';
    }
  };
  const lines = (s: string) => s.split('\n').filter(Boolean).length;
  const dockerUp = missing.container === undefined;
  // An owner id is "<pid>.<start time>"; the names made from it hold "-<owner id>".
  const owner = o.ownerPid !== undefined ? `-${o.ownerPid}\\.` : '';
  return {
    // Prosody runs as "lua5.4 /usr/bin/prosody -F --config <xfed work dir>/prosody.cfg.lua".
    prosodyProcesses: lines(sh('pgrep', ['-f', `prosody -F --config .*/xfed-${owner ? `[^ ]*${owner}` : ''}`])),
    containers: dockerUp
      ? lines(sh('docker', ['ps', '-aq', '--filter', o.ownerPid !== undefined ? `label=org.xfed.owner-pid=${o.ownerPid}` : 'label=org.xfed']))
      : 0,
    networks: dockerUp ? lines(sh('docker', ['network', 'ls', '-q', ...(o.ownerPid !== undefined ? ['--filter', `name=xfed-${o.ownerPid}.`] : [])])) : 0,
    tempDirs: readdirSync(os.tmpdir()).filter((d) => d.startsWith('xfed-') && (o.ownerPid === undefined || d.includes(`-${o.ownerPid}.`))).length,
  };
}
