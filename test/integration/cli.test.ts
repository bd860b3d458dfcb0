import { describe, expect, it } from '@jest/globals';
import { CAN_HIDE_RUNTIMES, runCli } from '../helpers/cli-process.js';

/** A user error is one line on stderr, exit code 2, and never a stack trace. */
function expectOneLineError(r: { code: number | null; stderr: string }, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('xfed:') || l.startsWith('error:')),
  ).toHaveLength(1);
}

const NOTHING = { withoutRuntimes: true } as const;
const itWithoutRuntimes = CAN_HIDE_RUNTIMES ? it : it.skip;
if (!CAN_HIDE_RUNTIMES) process.stderr.write('xfed tests: the no-Docker/no-Prosody CLI tests are skipped: unshare -m is not permitted here\n');

describe('xfed CLI', () => {
  it('prints help with every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['doctor', 'up', 'demo']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });

  it('doctor says what --runtime auto picks and why', async () => {
    const r = await runCli(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Docker engine/);
    expect(r.stdout).toMatch(/prosody binary/);
    expect(r.stdout).toMatch(/--runtime auto picks (container|process): /);
  });

  itWithoutRuntimes('doctor exits 2 and names both fixes when neither runtime is available', async () => {
    const r = await runCli(['doctor'], NOTHING);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/no way to run Prosody: start a Docker engine .* or install Prosody \(apt-get install prosody lua-unbound\)/);
  });

  it('up without --domain', async () => {
    expectOneLineError(await runCli(['up']), /error: required option '--domain <domain>' not specified/);
  });

  it('up with an unknown option value', async () => {
    expectOneLineError(await runCli(['up', '--domain', 'a.test', '--tls', 'sometimes']), /error: option '--tls <mode>' argument 'sometimes' is invalid/);
  });

  it('up with an invalid domain', async () => {
    expectOneLineError(await runCli(['up', '--domain', 'not a domain', '--runtime', 'process']), /^xfed: 'not a domain' is not a valid XMPP domain name$/m);
  });

  it('up with an impossible S2S profile', async () => {
    expectOneLineError(
      await runCli(['up', '--domain', 'a.test', '--certificates', 'self-signed', '--runtime', 'process']),
      /^xfed: s2s.auth 'certificate' needs CA-issued certificates/m,
    );
  });

  itWithoutRuntimes('up with neither Docker nor Prosody: one line naming both ways to fix it', async () => {
    expectOneLineError(await runCli(['up', '--domain', 'a.test'], NOTHING), /^xfed: no way to run Prosody: start a Docker engine/m);
  });

  itWithoutRuntimes('up --runtime process without Prosody names the package', async () => {
    expectOneLineError(
      await runCli(['up', '--domain', 'a.test', '--runtime', 'process'], NOTHING),
      /^xfed: prosody is not installed: install it \(apt-get install prosody lua-unbound\)/m,
    );
  });

  itWithoutRuntimes('up --runtime container without a Docker engine says so', async () => {
    expectOneLineError(
      await runCli(['up', '--domain', 'a.test', '--runtime', 'container'], NOTHING),
      /^xfed: no Docker engine answers .*: start one \(dockerd\) or use --runtime process$/m,
    );
  });
});
