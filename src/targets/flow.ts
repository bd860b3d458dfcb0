import { EventEmitter } from 'node:events';
import type { Redactor } from '../infra/redact.js';

/**
 * The lanes of a message ladder: who sent a message to whom. A partner user's stanza crosses
 * partner-user -> partner-server -> edge -> gateway -> sip-pool -> sfb-user.
 */
export const LANES = ['partner-user', 'partner-server', 'edge', 'gateway', 'sip-pool', 'sfb-user'] as const;
export type Lane = (typeof LANES)[number];

export interface FlowEvent {
  /** Wall clock, ms since the epoch. */
  at: number;
  /** Monotonic ms (performance.now()), for durations between events. */
  t: number;
  from: Lane;
  to: Lane;
  protocol: 'xmpp' | 'sip' | 'dns' | 'control';
  /** One line: `message chat`, `SIP MESSAGE`, `SIP 200 OK`, `presence subscribed`, ... */
  label: string;
  /** Who acted, when one user did (`alice@partner.test`, `erin`). */
  actor?: string;
  /** The message on the wire (XML or SIP text), cut at 4 KiB. */
  wire: string;
}

const WIRE_LIMIT = 4096;
/** Events kept: a run's checks look back seconds, a watch runs for hours (past it the oldest tenth goes). */
const EVENT_LIMIT = 10_000;

/**
 * Collects every message the topology's parts send and receive, in order, so that a check can
 * take what it caused (`since(mark)`) as its evidence.
 */
export class FlowRecorder extends EventEmitter {
  private events: FlowEvent[] = [];
  /** Events dropped from the front: marks are absolute, so they stay valid. */
  private dropped = 0;

  /** `redactor` hides secrets (a real gateway's passwords) before anything is kept. */
  constructor(private readonly redactor?: Redactor) {
    super();
  }

  record(raw: Omit<FlowEvent, 'at' | 't' | 'wire'> & { wire: string; at?: number; t?: number }): void {
    const e = this.redactor ? { ...raw, label: this.redactor.text(raw.label), wire: this.redactor.text(raw.wire) } : raw;
    const event: FlowEvent = {
      ...e,
      at: e.at ?? Date.now(),
      t: e.t ?? performance.now(),
      wire: e.wire.length > WIRE_LIMIT ? `${e.wire.slice(0, WIRE_LIMIT)}…` : e.wire,
    };
    this.events.push(event);
    if (this.events.length > EVENT_LIMIT) {
      const n = this.events.length - Math.floor(EVENT_LIMIT * 0.9);
      this.events = this.events.slice(n);
      this.dropped += n;
    }
    this.emit('event', event);
  }

  /** A position in the flow; `since(mark)` returns what happened after it. */
  mark(): number {
    return this.dropped + this.events.length;
  }

  since(mark: number): FlowEvent[] {
    return this.events.slice(Math.max(0, mark - this.dropped));
  }

  /** Drops every event kept so far (a watch, once a check has taken its evidence); marks stay valid. */
  forget(): void {
    this.dropped += this.events.length;
    this.events = [];
  }
}
