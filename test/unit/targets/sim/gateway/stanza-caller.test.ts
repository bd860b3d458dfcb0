import { describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import { TimeoutError } from '../../../../../src/errors.js';
import { WaitCancelled } from '../../../../../src/infra/deadline.js';
import { StanzaCaller } from '../../../../../src/targets/sim/gateway/stanza-caller.js';

describe('StanzaCaller', () => {
  it('hands the answer with a waited-for id to its call', async () => {
    const caller = new StanzaCaller(async () => undefined);
    const call = caller.call([xml('iq', { id: 'a', type: 'get' })], ['a'], 1_000, 'the answer');
    await Promise.resolve();
    expect(caller.take(xml('iq', { id: 'a', type: 'result' }))).toBe(true);
    expect((await call).attrs.type).toBe('result');
    expect(caller.take(xml('iq', { id: 'a', type: 'result' }))).toBe(false);
  });

  it('a call without an answer times out', async () => {
    const caller = new StanzaCaller(async () => undefined);
    await expect(caller.call([], ['b'], 20, 'the answer')).rejects.toBeInstanceOf(TimeoutError);
  });

  it('the link lost ends every call in flight at once, as cancelled, not at its deadline', async () => {
    const caller = new StanzaCaller(async () => undefined);
    const calls = [caller.call([], ['c'], 60_000, 'one'), caller.call([], ['d'], 60_000, 'another')];
    await Promise.resolve();
    caller.cancelAll();
    // WaitCancelled, not the TimeoutError of a 60 s deadline.
    for (const c of calls) await expect(c).rejects.toBeInstanceOf(WaitCancelled);
  });
});
