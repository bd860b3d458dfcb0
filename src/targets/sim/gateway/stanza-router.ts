import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import type { StanzaCaller } from './stanza-caller.js';

/** What an IQ handler throws to answer with a stanza error (as @xmpp/iq's callee). */
export class StanzaRefusal extends Error {
  constructor(
    readonly condition: string,
    readonly text: string,
  ) {
    super(`${condition}: ${text}`);
  }
}

export type StanzaHandler = (stanza: Element) => Promise<void>;
/** The children of the result, or a thrown StanzaRefusal. */
export type IqHandler = (iq: Element, payload: Element) => Promise<Element[]>;
/** A refusal due before any handler runs (a feature the gateway never carries), or undefined. */
export type IqCheck = (iq: Element) => { condition: string; text: string } | undefined;

export interface StanzaReplies {
  send(...stanzas: Element[]): Promise<void>;
  replyError(stanza: Element, condition: string, text: string): Promise<void>;
}

/**
 * Where each incoming stanza goes, in the spirit of @xmpp/middleware: an answer to the caller
 * that waits for it, an IQ request to the handler of its payload's namespace, a message or a
 * presence to the handler of its kind. Anything else is dropped.
 */
export class StanzaRouter {
  private readonly handlers = new Map<string, StanzaHandler>();
  private readonly iqHandlers = new Map<string, IqHandler>();
  private readonly iqChecks: IqCheck[] = [];

  constructor(
    private readonly caller: StanzaCaller,
    private readonly replies: StanzaReplies,
    /** The refusal of an IQ request nobody handles (RFC 6120 8.4: service-unavailable). */
    private readonly unhandledIq: (ns: string | undefined) => StanzaRefusal,
  ) {}

  on(name: 'message' | 'presence', handler: StanzaHandler): this {
    this.handlers.set(name, handler);
    return this;
  }

  iq(type: 'get' | 'set', ns: string, handler: IqHandler): this {
    this.iqHandlers.set(`${type} ${ns}`, handler);
    return this;
  }

  checkIq(check: IqCheck): this {
    this.iqChecks.push(check);
    return this;
  }

  async route(stanza: Element): Promise<void> {
    if (this.caller.take(stanza)) return;
    if (!stanza.is('iq')) return this.handlers.get(stanza.getName())?.(stanza);
    const type = stanza.attrs.type as string | undefined;
    // Only requests are answered (RFC 6120 8.2.3); a result or error nobody waits for is dropped.
    if (type !== 'get' && type !== 'set') return;
    const payload = stanza.getChildElements()[0];
    const ns = payload?.attrs.xmlns as string | undefined;
    try {
      for (const check of this.iqChecks) {
        const refusal = check(stanza);
        if (refusal) throw new StanzaRefusal(refusal.condition, refusal.text);
      }
      const handler = payload && ns !== undefined ? this.iqHandlers.get(`${type} ${ns}`) : undefined;
      if (!handler || !payload) throw this.unhandledIq(ns);
      const children = await handler(stanza, payload);
      await this.replies.send(
        xml('iq', { type: 'result', id: stanza.attrs.id as string, from: stanza.attrs.to as string, to: stanza.attrs.from as string }, ...children),
      );
    } catch (err) {
      if (!(err instanceof StanzaRefusal)) throw err;
      await this.replies.replyError(stanza, err.condition, err.text);
    }
  }
}
