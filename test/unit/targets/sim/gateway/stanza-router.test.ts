import { describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { StanzaCaller } from '../../../../../src/targets/sim/gateway/stanza-caller.js';
import { StanzaRefusal, StanzaRouter } from '../../../../../src/targets/sim/gateway/stanza-router.js';

/** A router whose replies are recorded as text. */
function router() {
  const out: string[] = [];
  const replies = {
    send: async (...stanzas: Element[]) => void out.push(...stanzas.map(String)),
    replyError: async (s: Element, condition: string, text: string) => void out.push(`error ${s.attrs.id} ${condition}: ${text}`),
  };
  const caller = new StanzaCaller(replies.send);
  const r = new StanzaRouter(caller, replies, (ns) => new StanzaRefusal('service-unavailable', `no ${ns ?? 'payload'}`));
  return { r, out, caller };
}

describe('StanzaRouter', () => {
  it('hands messages and presences to the handler of their kind, and drops other elements', async () => {
    const { r } = router();
    const seen: string[] = [];
    r.on('message', async (s) => void seen.push(`message ${s.attrs.id}`)).on('presence', async (s) => void seen.push(`presence ${s.attrs.id}`));
    for (const s of [xml('message', { id: 'm' }), xml('presence', { id: 'p' }), xml('other', { id: 'o' })]) await r.route(s);
    expect(seen).toEqual(['message m', 'presence p']);
  });

  it('answers an IQ request from the handler of its type and payload namespace, with a result addressed back', async () => {
    const { r, out } = router();
    r.iq('get', 'urn:x', async (iq, payload) => [xml('answer', { to: iq.attrs.id as string, ns: payload.attrs.xmlns as string })]);
    await r.route(xml('iq', { type: 'get', id: 'q', from: 'a@b/c', to: 'd@e' }, xml('query', { xmlns: 'urn:x' })));
    expect(out).toEqual(['<iq type="result" id="q" from="d@e" to="a@b/c"><answer to="q" ns="urn:x"/></iq>']);
  });

  it('refusals: thrown by a handler, from a check before any handler, or for what no handler takes', async () => {
    const { r, out } = router();
    r.iq('get', 'urn:x', async () => {
      throw new StanzaRefusal('forbidden', 'not you');
    }).checkIq((iq) => (iq.getChild('jingle') ? { condition: 'feature-not-implemented', text: 'no calls' } : undefined));
    await r.route(xml('iq', { type: 'get', id: '1' }, xml('query', { xmlns: 'urn:x' })));
    await r.route(xml('iq', { type: 'get', id: '2' }, xml('jingle', { xmlns: 'urn:x' })));
    await r.route(xml('iq', { type: 'set', id: '3' }, xml('query', { xmlns: 'urn:x' })));
    await r.route(xml('iq', { type: 'get', id: '4' }));
    expect(out).toEqual([
      'error 1 forbidden: not you',
      'error 2 feature-not-implemented: no calls',
      'error 3 service-unavailable: no urn:x',
      'error 4 service-unavailable: no payload',
    ]);
  });

  it('lets other errors through, and never answers results or errors', async () => {
    const { r, out } = router();
    r.iq('get', 'urn:x', async () => {
      throw new Error('bug');
    });
    await expect(r.route(xml('iq', { type: 'get', id: '1' }, xml('query', { xmlns: 'urn:x' })))).rejects.toThrow('bug');
    await r.route(xml('iq', { type: 'result', id: '2' }));
    await r.route(xml('iq', { type: 'error', id: '3' }));
    expect(out).toEqual([]);
  });
});

describe('StanzaCaller', () => {
  it('sends in one call and resolves with the first answer to any of the ids, which the router hands over', async () => {
    const { r, out, caller } = router();
    const seen: string[] = [];
    r.on('message', async (s) => void seen.push(`message ${s.attrs.type} ${s.attrs.id}`));
    const answer = caller.call([xml('message', { id: 'm' }), xml('iq', { type: 'get', id: 'p' })], ['m', 'p'], 1_000, 'the answer');
    expect(out).toEqual(['<message id="m"/>', '<iq type="get" id="p"/>']);
    await r.route(xml('message', { type: 'error', id: 'm' }));
    expect((await answer).toString()).toBe('<message type="error" id="m"/>');
    // Once answered, the ids are forgotten: a late answer goes to the handlers like any stanza.
    await r.route(xml('message', { type: 'result', id: 'p' }));
    expect(seen).toEqual(['message result p']);
  });

  it('a request is not an answer, and no answer in time is a TimeoutError', async () => {
    const { r, caller } = router();
    const answer = caller.call([xml('iq', { type: 'get', id: 'p' })], ['p'], 50, 'the pong');
    await r.route(xml('iq', { type: 'get', id: 'p' }));
    await expect(answer).rejects.toThrow('timed out after 50 ms waiting for the pong');
    expect(caller.take(xml('iq', { type: 'result', id: 'p' }))).toBe(false);
  });
});
