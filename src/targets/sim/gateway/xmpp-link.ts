import type { Element } from 'ltx';

/**
 * The gateway's stream of stanzas with the Edge, whatever carries it: the Edge's component
 * listener (component-link.ts), or a fake in unit tests.
 */
export interface XmppLink {
  send(stanza: Element): Promise<void>;
  /** Several stanzas in one write. */
  write(stanzas: Element[]): Promise<void>;
  on(event: 'stanza', listener: (stanza: Element) => void): unknown;
  off(event: 'stanza', listener: (stanza: Element) => void): unknown;
  stop(): Promise<void>;
  /** Ends the connection at once, without closing the stream, as a crashed process's would (default: `stop`). */
  drop?(): void;
}
