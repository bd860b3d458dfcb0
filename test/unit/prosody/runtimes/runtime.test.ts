import { describe, expect, it } from '@jest/globals';
import { isFatalLogLine, relevantLogLines } from '../../../../src/prosody/runtimes/runtime.js';

// Lines as Prosody 0.12 prints them (seen on this machine).
const fatal = [
  'portmanager         error\tFailed to open server port 44687 on 127.0.0.1, this port is in use by another application',
  'y.test:tls          error\tError creating context for c2s: error loading private key (unsupported)',
  "modulemanager       error\tUnable to load module 'auth_nope': /usr/lib/prosody/modules/mod_auth_nope.lua: No such file or directory",
  'c2s5571b1f8f4c0     warn\tNo stream features to offer on insecure session. Check encryption and security settings.',
  'A problem occurred while reading the config file /tmp/x/prosody.cfg.lua',
];
const harmless = [
  'startup             info\tHello and welcome to Prosody version 0.12.3',
  "portmanager         info\tActivated service 's2s' on [127.0.0.1]:43335",
  's2sout56241cd45ad0  info\tOutgoing s2s connection a.test->b.test complete',
];

describe('startup log classification', () => {
  it.each(fatal)('fatal: %s', (line) => expect(isFatalLogLine(line)).toBe(true));
  it.each(harmless)('harmless: %s', (line) => expect(isFatalLogLine(line)).toBe(false));

  it('shows the fatal line with the lines before it', () => {
    const lines = [...harmless, fatal[0]!, 'after'];
    expect(relevantLogLines(lines)).toEqual([...harmless, fatal[0]!, 'after']);
    expect(
      relevantLogLines(
        Array.from({ length: 30 }, (_, i) => `l${i}`),
        3,
      ),
    ).toEqual(['l27', 'l28', 'l29']);
  });
});
