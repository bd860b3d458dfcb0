import { TimeoutError } from '../errors.js';
import { bareOf, type Element, type XmppUser } from '../xmpp/client.js';

/** What a stanza must look like to match: every given field must hold. */
export interface StanzaPattern {
  /** Bare or full JID of the sender. */
  from?: string;
  /** The message body, exactly or by pattern. */
  body?: string | RegExp;
  /** Stanza name: message (default), presence or iq. */
  name?: 'message' | 'presence' | 'iq';
  /** The stanza's type attribute (`error`, `subscribed`, ...). */
  type?: string;
}

function matches(s: Element, p: StanzaPattern): boolean {
  if (!s.is(p.name ?? 'message')) return false;
  if (p.type !== undefined && s.attrs.type !== p.type) return false;
  if (p.from !== undefined && s.attrs.from !== p.from && bareOf(s.attrs.from as string) !== p.from) return false;
  if (p.body !== undefined) {
    const body = s.getChildText('body');
    if (body === null || (typeof p.body === 'string' ? body !== p.body : !p.body.test(body))) return false;
  }
  return true;
}

const show = (p: StanzaPattern) => JSON.stringify({ ...p, body: p.body instanceof RegExp ? String(p.body) : p.body });

/**
 * Custom Jest matchers for xfed users. Register them once with `expect.extend(xfedMatchers)`:
 *
 *   await expect(alice).toReceive({ from: 'erin@contoso.test', body: 'hi' }, { within: 2_000 });
 *   const mark = alice.mark();
 *   await expect(alice).toReceiveNothingBefore(() => topo.barrier(alice), { from: 'gina@contoso.test', name: 'presence' }, mark);
 */
export const xfedMatchers = {
  async toReceive(this: { isNot?: boolean }, user: XmppUser, pattern: StanzaPattern, opts: { within?: number } = {}) {
    const within = opts.within ?? 5_000;
    try {
      const r = await user.waitFor((s) => matches(s, pattern), within, `a stanza like ${show(pattern)}`);
      return { pass: true, message: () => `expected ${user.bare} not to receive ${show(pattern)}, but got ${r.stanza.toString()}` };
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      const recent = user
        .received()
        .slice(-5)
        .map((r) => `  ${r.stanza.toString().slice(0, 300)}`);
      return {
        pass: false,
        message: () => `expected ${user.bare} to receive ${show(pattern)} within ${within} ms; last stanzas:\n${recent.join('\n') || '  none'}`,
      };
    }
  },

  async toReceiveNothingBefore(this: { isNot?: boolean }, user: XmppUser, barrier: () => Promise<unknown>, pattern: StanzaPattern = {}, since = user.mark()) {
    await barrier();
    const unwanted = user.received(since).filter((r) => matches(r.stanza, pattern));
    return unwanted.length === 0
      ? { pass: true, message: () => `expected ${user.bare} to receive ${show(pattern)} before the barrier, but nothing came` }
      : {
          pass: false,
          message: () => `expected nothing like ${show(pattern)} before the barrier, got:\n${unwanted.map((r) => `  ${r.stanza.toString()}`).join('\n')}`,
        };
  },
};

declare module 'expect' {
  // Declaration merging must repeat the augmented interface's type parameters, used or not.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    /** Resolves when the XmppUser receives a stanza like `pattern` within `opts.within` ms. */
    toReceive(pattern: StanzaPattern, opts?: { within?: number }): Promise<R>;
    /** Nothing like `pattern` arrived (since `since`) before `barrier()` resolved. */
    toReceiveNothingBefore(barrier: () => Promise<unknown>, pattern?: StanzaPattern, since?: number): Promise<R>;
  }
}

// The global `expect` of @types/jest (tests that do not import from '@jest/globals') reads its
// matchers from the `jest` namespace instead.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // The same type parameters as @types/jest's declaration, or the two would not merge.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars, @typescript-eslint/no-empty-object-type
    interface Matchers<R, T = {}> {
      toReceive(pattern: StanzaPattern, opts?: { within?: number }): Promise<R>;
      toReceiveNothingBefore(barrier: () => Promise<unknown>, pattern?: StanzaPattern, since?: number): Promise<R>;
    }
  }
}
