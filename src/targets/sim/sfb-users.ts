import { XfedError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import { Inbox } from '../../infra/inbox.js';
import type { SfbAvailability, ShowMapping } from '../../sfb/availability.js';
import type { PoolName } from '../../sfb/deployment.js';
import type { SipResponse } from '../../sip/message.js';
import type { FlowRecorder } from '../flow.js';
import type { SfbImAnswer, SfbUser, WaitOptions } from '../target.js';
import type { SfbDirectory, SfbUserState } from './pool/directory.js';
import type { SipPool } from './pool/pool.js';
import type { SipUserEvent } from './pool/user-event.js';

/** Everything the simulated SfB users see on their SIP side (IMs, NOTIFYs, subscriptions), kept to wait on. */
export class SfbEvents extends Inbox<SipUserEvent> {
  constructor(pools: SipPool[]) {
    // A check looks back seconds; a watch runs for hours.
    super(2_000);
    for (const pool of pools) pool.on('user-event', (e: SipUserEvent) => this.push(e));
  }

  /** The first event from now on that matches, within a deadline. */
  next(match: (e: SipUserEvent) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<SipUserEvent> {
    return this.waitFor(match, { timeoutMs, what, since: this.mark(), signal });
  }
}

/** A simulated SfB user's IM: what became of it, with the SIP response the gateway or the pool gave. */
export type SimImAnswer = SfbImAnswer & { sip: SipResponse };

export interface SimImOptions extends Partial<WaitOptions> {
  subject?: string;
  /** The XMPP thread on the far side. */
  callId?: string;
  lang?: string;
  /** The body's type: text/plain unless told. */
  contentType?: string;
}

/**
 * A simulated SfB user: he acts through his home pool over SIP, as his client would, and what he
 * receives is seen on his SIP side.
 */
export class SimSfbUser implements SfbUser {
  readonly name: string;
  readonly jid: string;
  readonly answersSubscriptionsHimself = false;

  constructor(
    name: string,
    private readonly parts: {
      directory: SfbDirectory;
      pools: Record<PoolName, SipPool>;
      events: SfbEvents;
      flow: FlowRecorder;
      showMapping: ShowMapping;
    },
  ) {
    const state = parts.directory.get(name);
    if (!state)
      throw new XfedError(
        `unknown SfB user '${name}' (known: ${
          parts.directory
            .users()
            .map((u) => u.name)
            .join(', ') || 'none'
        })`,
      );
    this.name = state.name;
    this.jid = `${state.name}@${state.domain}`;
  }

  /** His home pool now (Move-CsUser changes it). */
  get pool(): PoolName {
    return this.state().pool as PoolName;
  }

  get echoes(): boolean {
    return this.state().behaviour === 'echo';
  }

  get showMapping(): ShowMapping {
    return this.parts.showMapping;
  }

  receivesIm(body: string, opts: WaitOptions): Promise<string> {
    const me = this.name.toLowerCase();
    return this.parts.events
      .next(
        (e) => e.kind === 'im' && e.user.toLowerCase() === me && e.body === body && (e.status === undefined || e.status < 300),
        opts.timeoutMs,
        `${this.name} to receive the IM`,
        opts.signal,
      )
      .then(() => `received by ${this.name}`);
  }

  /** Writes over SIP; the answer is the SIP final response (the gateway answers 200 once the XMPP side took it). */
  async sendIm(to: string, body: string, opts: SimImOptions = {}): Promise<SimImAnswer> {
    this.act(`writes to ${to}`, body);
    const { timeoutMs, signal, ...sip } = opts;
    const sending = this.home().sendIm(this.name, to, body, sip);
    const res = timeoutMs === undefined ? await sending : await withDeadline(sending, timeoutMs, `the SIP answer to ${this.name}'s IM`, signal);
    if (res.status < 300) return { accepted: true, text: `SIP ${res.status}`, sip: res };
    const warning = res.headers.get('Warning');
    return { accepted: false, detail: { sip: String(res.status) }, text: `${res.status} ${res.reason}${warning ? ` (${warning})` : ''}`, sip: res };
  }

  presence(): { availability: SfbAvailability; note?: string } {
    const { availability, note } = this.state();
    return note === undefined ? { availability } : { availability, note };
  }

  async setAvailability(availability: SfbAvailability, note?: string): Promise<void> {
    this.act(`sets ${availability}`, note ?? '');
    await this.home().setAvailability(this.name, availability, note);
  }

  /** Adds a partner contact: his client subscribes to the contact's presence (SIP SUBSCRIBE). */
  addContact(jid: string): Promise<SipResponse> {
    this.act(`adds contact ${jid}`, jid);
    return this.home().addContact(this.name, jid);
  }

  removeContact(jid: string): Promise<void> {
    this.act(`removes contact ${jid}`, jid);
    return this.home().removeContact(this.name, jid);
  }

  private state(): SfbUserState {
    return this.parts.directory.get(this.name)!;
  }

  private home(): SipPool {
    return this.parts.pools[this.pool];
  }

  private act(label: string, wire: string): void {
    this.parts.flow.record({ from: 'sfb-user', to: 'sip-pool', protocol: 'control', label, actor: this.name, wire });
  }
}
