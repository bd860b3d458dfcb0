import { describe, expect, it } from '@jest/globals';
import { WaitCancelled } from '../../../src/infra/deadline.js';
import { Inbox } from '../../../src/infra/inbox.js';
import { TimeoutError } from '../../../src/errors.js';

describe('Inbox', () => {
  it('answers a wait from what arrived already, or from what arrives next', async () => {
    const inbox = new Inbox<string>();
    inbox.push('alpha');
    expect(await inbox.waitFor((s) => s.startsWith('a'), { timeoutMs: 10, what: 'alpha' })).toBe('alpha');
    const later = inbox.waitFor((s) => s.startsWith('b'), { timeoutMs: 1_000, what: 'bravo' });
    inbox.push('charlie');
    inbox.push('bravo');
    expect(await later).toBe('bravo');
  });

  it('gives a claimed item to one claiming wait only, while a look sees it too', async () => {
    const inbox = new Inbox<string>();
    const first = inbox.waitFor(() => true, { timeoutMs: 1_000, what: 'one', claim: true });
    const second = inbox.waitFor(() => true, { timeoutMs: 1_000, what: 'two', claim: true });
    const look = inbox.waitFor(() => true, { timeoutMs: 1_000, what: 'a look' });
    inbox.push('m1');
    expect(await first).toBe('m1');
    expect(await look).toBe('m1');
    inbox.push('m2');
    expect(await second).toBe('m2');
    // Both are taken now: a new claiming wait finds nothing kept, a look still finds m1.
    await expect(inbox.waitFor(() => true, { timeoutMs: 20, what: 'a third', claim: true })).rejects.toThrow(TimeoutError);
    expect(await inbox.waitFor(() => true, { timeoutMs: 10, what: 'a look' })).toBe('m1');
  });

  it('counts marks from the start, so a wait since a mark sees only what came after it', async () => {
    const inbox = new Inbox<number>();
    inbox.push(1);
    const mark = inbox.mark();
    const next = inbox.waitFor((n) => n > 0, { timeoutMs: 1_000, what: 'a number', since: mark });
    inbox.push(2);
    expect(await next).toBe(2);
    expect(inbox.since(mark)).toEqual([2]);
  });

  it('drops the oldest past its limit and keeps marks absolute', () => {
    const inbox = new Inbox<number>(3);
    for (let i = 0; i < 5; i++) inbox.push(i);
    expect(inbox.since()).toEqual([2, 3, 4]);
    expect(inbox.mark()).toBe(5);
    expect(inbox.since(4)).toEqual([4]);
    expect(inbox.since(1)).toEqual([2, 3, 4]);
  });

  it('ends a wait at its deadline, naming what it waited for, and at once when its signal aborts', async () => {
    const inbox = new Inbox<string>();
    await expect(inbox.waitFor(() => false, { timeoutMs: 20, what: 'the echo of erin' })).rejects.toThrow('timed out after 20 ms waiting for the echo of erin');
    const stop = new AbortController();
    const waiting = inbox.waitFor(() => false, { timeoutMs: 60_000, what: 'nothing', signal: stop.signal });
    stop.abort();
    await expect(waiting).rejects.toBeInstanceOf(WaitCancelled);
  });
});

describe('Inbox.unclaimed', () => {
  it('lists what no claiming wait took', async () => {
    const inbox = new Inbox<string>();
    inbox.push('a');
    inbox.push('b');
    await inbox.waitFor((s) => s === 'a', { timeoutMs: 10, what: 'a', claim: true });
    expect(inbox.unclaimed()).toEqual(['b']);
  });
});
