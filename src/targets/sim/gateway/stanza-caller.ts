import type { Element } from 'ltx';
import { withDeadline } from '../../../infra/deadline.js';

/**
 * Sends stanzas and waits for the answer to one of them, by id: an IQ's result or error, or the
 * error a message bounced with (after @xmpp/iq's caller, which knows IQs only).
 */
export class StanzaCaller {
  private readonly awaiting = new Map<string, (answer: Element) => void>();
  /** Every call in flight, so that losing the link ends them at once instead of at their deadline. */
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly send: (...stanzas: Element[]) => Promise<void>) {}

  /** The first answer to any of `ids`; a TimeoutError after `timeoutMs`, WaitCancelled if the link goes. */
  async call(stanzas: Element[], ids: string[], timeoutMs: number, what: string): Promise<Element> {
    let resolve: (answer: Element) => void = () => undefined;
    const answer = new Promise<Element>((r) => (resolve = r));
    const cancel = new AbortController();
    this.inFlight.add(cancel);
    for (const id of ids) this.awaiting.set(id, resolve);
    try {
      await this.send(...stanzas);
      return await withDeadline(answer, timeoutMs, what, cancel.signal);
    } finally {
      this.inFlight.delete(cancel);
      for (const id of ids) this.awaiting.delete(id);
    }
  }

  /** The link the answers would come on is gone: every call in flight ends now, as cancelled. */
  cancelAll(): void {
    for (const c of this.inFlight) c.abort();
  }

  /** Hands a result or error to the call waiting for it; false when none does. */
  take(s: Element): boolean {
    if (s.attrs.type !== 'result' && s.attrs.type !== 'error') return false;
    const id = s.attrs.id as string | undefined;
    const waiter = id ? this.awaiting.get(id) : undefined;
    waiter?.(s);
    return waiter !== undefined;
  }
}
