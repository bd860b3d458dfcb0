import { describe, expect, it } from '@jest/globals';
import { EnvironmentError } from '../../../src/errors.js';
import { findTsung, remoteShell, resolveHosts } from '../../../src/load/tsung/nodes.js';

describe("Tsung's client hosts", () => {
  it('takes loopback addresses as they are', async () => {
    expect(await resolveHosts(['127.0.0.2', ' 127.0.0.3 '])).toEqual([
      { name: '127.0.0.2', ip: '127.0.0.2' },
      { name: '127.0.0.3', ip: '127.0.0.3' },
    ]);
  });

  it.each([
    ['10.0.0.5', /10\.0\.0\.5: resolves to 10\.0\.0\.5, not a loopback address/],
    ['localhost', /localhost: Erlang's long node names need a dotted name or an address/],
    ['no-such-host.invalid', /no-such-host\.invalid: the name does not resolve/],
    ['::1', /::1: an IPv6 address/],
    ['', /an empty host name/],
  ])('refuses %s in one line', async (host, message) => {
    const err = await resolveHosts([host]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('names the package when tsung is missing, in one line', async () => {
    const err = await findTsung('/nonexistent/tsung').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toMatch(/apt-get install tsung/);
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(findTsung()).rejects.toThrow("tsung is not installed (not on PATH): install Debian's tsung package (apt-get install tsung)");
    } finally {
      process.env.PATH = saved;
    }
  });

  it('starts each remote node here, bound to its host address', () => {
    const sh = remoteShell([
      { name: '127.0.0.2', ip: '127.0.0.2' },
      { name: 'node3.test', ip: '127.0.0.3' },
    ]);
    expect(sh).toContain("'127.0.0.2') ip='{127,0,0,2}' ;;");
    expect(sh).toContain("'node3.test') ip='{127,0,0,3}' ;;");
    expect(sh).toContain('exec "$@"');
  });
});
