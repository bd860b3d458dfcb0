import { describe, expect, it } from '@jest/globals';
import { loadProfileOf, parseRestart, type LoadCommandOptions } from '../../../src/cli/load.js';
import { XfedError } from '../../../src/errors.js';
import { parseDuration, parseRate } from '../../../src/infra/duration.js';

describe('rates', () => {
  it.each([
    ['200/s', 200],
    ['200', 200],
    ['12000/min', 200],
    ['1.5/s', 1.5],
    ['3600/h', 1],
    ['30/m', 0.5],
    ['1e6/s', 1_000_000],
    [' 50 / s ', 50],
  ])('%s is %d per second', (text, perSecond) => {
    expect(parseRate(text, '--rate')).toBe(perSecond);
  });

  it.each(['fast', '-5/s', '200/day', '', '/s', '10/s/s'])('refuses %j in one line', (text) => {
    expect(() => parseRate(text, '--rate')).toThrow(new XfedError(`--rate ${text}: not a rate (examples: 200/s, 200, 12000/min)`));
  });

  it('refuses 0 unless the rate may be off', () => {
    expect(() => parseRate('0', '--rate')).toThrow('--rate 0: must be more than 0');
    expect(parseRate('0', '--presence-churn', { zero: true })).toBe(0);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['2', 2000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '--duration')).toBe(ms);
  });

  it('refuses what is not one', () => {
    expect(() => parseDuration('soon', '--ramp')).toThrow('--ramp soon: not a duration');
    expect(() => parseDuration('0s', '--ramp')).toThrow('--ramp 0s: must be at least 1 ms');
  });
});

const options = (o: Partial<LoadCommandOptions> = {}): LoadCommandOptions => ({
  users: '30',
  domains: '2',
  rate: '50/s',
  duration: '3s',
  presenceChurn: '0',
  ramp: '30s',
  subscribe: true,
  grace: '5s',
  engine: 'xfed',
  runtime: 'process',
  ...o,
});

describe('the load profile from the command line', () => {
  it('reads every option', () => {
    expect(loadProfileOf(options({ presenceChurn: '300/min', ramp: '1s', subscribe: false, restart: 'gateway@1s' }))).toEqual({
      users: 30,
      domains: 2,
      rate: 50,
      durationMs: 3000,
      rampMs: 1000,
      presenceChurn: 5,
      subscribe: false,
      graceMs: 5000,
      restart: { what: 'gateway', atMs: 1000 },
    });
  });

  it('refuses users and domains that are not whole numbers of at least 1', () => {
    expect(() => loadProfileOf(options({ users: '0' }))).toThrow('--users 0: expected a whole number of at least 1');
    expect(() => loadProfileOf(options({ users: '1.5' }))).toThrow('--users 1.5: expected a whole number of at least 1');
    expect(() => loadProfileOf(options({ domains: 'two' }))).toThrow('--domains two: expected a whole number of at least 1');
  });

  it('reads a restart as what@time within the duration', () => {
    expect(parseRestart('edge@30s', 60_000)).toEqual({ what: 'edge', atMs: 30_000 });
    expect(() => parseRestart('pool@30s', 60_000)).toThrow('--restart pool@30s: expected edge@TIME or gateway@TIME');
    expect(() => parseRestart('edge@2m', 60_000)).toThrow('--restart edge@2m: the restart must come within --duration (60 s)');
    expect(() => parseRestart('edge@now', 60_000)).toThrow('--restart now: not a duration');
  });
});
