import type { Element } from 'ltx';
import { EventEmitter } from 'node:events';
import type { XmppLink } from '../../src/targets/sim/gateway/xmpp-link.js';
import { Inbox } from './inbox.js';

/**
 * The Edge's end of the gateway's XMPP link, in memory: a test delivers stanzas as the Edge would
 * route them to the component, and takes the stanzas the gateway sent.
 */
export class FakeXmppLink extends EventEmitter implements XmppLink {
  /** Every stanza the gateway sent, in order. */
  readonly sent: Element[] = [];
  /** The stanzas of each write: what went out together. */
  readonly writes: Element[][] = [];
  private readonly outbox = new Inbox<Element>();
  stopped = false;

  async send(stanza: Element): Promise<void> {
    this.record([stanza]);
  }

  async write(stanzas: Element[]): Promise<void> {
    this.record(stanzas);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** A stanza for the gateway, as the Edge routes it. */
  deliver(stanza: Element): void {
    this.emit('stanza', stanza);
  }

  /** The first stanza sent that matches and was not taken yet, waiting for it within `ms`. */
  next(match: (s: Element) => boolean, what: string, ms = 2_000): Promise<Element> {
    return this.outbox.next(match, what, ms);
  }

  /** The stanza answering the one with `id` (same id, to its sender). */
  replyTo(id: string, ms = 2_000): Promise<Element> {
    return this.next((s) => s.attrs.id === id, `the answer to ${id}`, ms);
  }

  /** Sent, matching, and not taken yet. */
  untaken(match: (s: Element) => boolean = () => true): Element[] {
    return this.outbox.peek(match);
  }

  private record(stanzas: Element[]): void {
    this.writes.push(stanzas);
    for (const s of stanzas) {
      this.sent.push(s);
      this.outbox.push(s);
    }
  }
}
