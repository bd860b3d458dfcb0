import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../src/errors.js';
import { checkOpenFiles, openFilesLimit, openFilesNeeded } from '../../../src/load/limits.js';

const limits = (soft: string, hard: string) => `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files
Max locked memory         8388608              8388608              bytes
`;

describe('the open files limit', () => {
  it('reads the soft and hard values of /proc/self/limits', () => {
    expect(openFilesLimit(limits('1024', '524288'))).toEqual({ soft: 1024, hard: 524288 });
    expect(openFilesLimit(limits('unlimited', 'unlimited'))).toEqual({ soft: Infinity, hard: Infinity });
    expect(openFilesLimit('nothing here')).toBeUndefined();
  });

  it('passes when the soft limit covers the users and the spare descriptors', () => {
    expect(() => checkOpenFiles(1000, limits(String(openFilesNeeded(1000)), '4096'))).not.toThrow();
    expect(() => checkOpenFiles(100_000, limits('unlimited', 'unlimited'))).not.toThrow();
    // Without /proc nothing is known, and nothing is refused.
    expect(() => checkOpenFiles(1000, undefined)).not.toThrow();
  });

  it('names the limit, what N needs and the fixes, in one line', () => {
    let err: unknown;
    try {
      checkOpenFiles(1000, limits('1024', '524288'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain('the open files limit (RLIMIT_NOFILE) is 1024, and 1000 users need at least 1256');
    expect(message).toContain('ulimit -n 4096');
    expect(message).toContain('LimitNOFILE=4096');
    expect(message).toContain('--ulimit nofile=4096:4096');
    expect(message).not.toContain('hard limit');
  });

  it('says when the hard limit must be raised first, and asks for enough beyond 4096', () => {
    expect(() => checkOpenFiles(5000, limits('64', '64'))).toThrow(/hard limit is 64: raise that first.*ulimit -n 8192/);
  });
});
