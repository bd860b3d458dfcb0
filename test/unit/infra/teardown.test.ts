import { describe, expect, it } from '@jest/globals';
import { TeardownStack } from '../../../src/infra/teardown.js';
import { withDeadline, pollUntil, WaitCancelled } from '../../../src/infra/deadline.js';
import { LineLog } from '../../../src/infra/line-log.js';
import { TimeoutError } from '../../../src/errors.js';

describe('TeardownStack', () => {
  it('releases in reverse order and only once', async () => {
    const order: string[] = [];
    const stack = new TeardownStack('t');
    stack.defer('network', () => void order.push('network'));
    stack.defer('server', () => void order.push('server'));
    await Promise.all([stack.close(), stack.close()]);
    expect(order).toEqual(['server', 'network']);
  });

  it('runs every release even when one fails, then reports the failure', async () => {
    const order: string[] = [];
    const stack = new TeardownStack('t');
    stack.defer('a', () => void order.push('a'));
    stack.defer('b', () => {
      throw new Error('boom');
    });
    stack.defer('c', () => void order.push('c'));
    await expect(stack.close()).rejects.toThrow('teardown of b failed: boom');
    expect(order).toEqual(['c', 'a']);
  });

  it('releases one entry early, and not again at close', async () => {
    let released = 0;
    const stack = new TeardownStack('t');
    const early = stack.defer('x', () => void released++);
    await early();
    await stack.close();
    expect(released).toBe(1);
  });
});

describe('bounded waits', () => {
  it('withDeadline names what it waited for', async () => {
    await expect(withDeadline(new Promise(() => undefined), 20, 'the moon')).rejects.toThrow(new TimeoutError('timed out after 20 ms waiting for the moon'));
  });

  it('withDeadline ends at once when cancelled', async () => {
    const ac = new AbortController();
    const p = withDeadline(new Promise(() => undefined), 60_000, 'x', ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(WaitCancelled);
  });

  it('pollUntil returns the first defined value', async () => {
    let n = 0;
    expect(await pollUntil(() => (++n === 3 ? 'ready' : undefined), { timeoutMs: 1_000, intervalMs: 1, what: 'x' })).toBe('ready');
  });
});

describe('LineLog', () => {
  it('splits chunks into lines and waits for past or future lines', async () => {
    const log = new LineLog();
    log.write('one\ntw');
    log.write('o\n');
    expect(log.all()).toEqual(['one', 'two']);
    expect(await log.waitFor(/tw/, { timeoutMs: 10 })).toBe('two');
    const mark = log.mark();
    const later = log.waitFor(/t/, { timeoutMs: 1_000, since: mark });
    log.write('three\n');
    expect(await later).toBe('three');
    expect(log.since(mark)).toEqual(['three']);
    await expect(log.waitFor(/never/, { timeoutMs: 10 })).rejects.toThrow(/timed out/);
  });
});
