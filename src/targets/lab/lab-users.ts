import { NotPossible } from '../../errors.js';
import { DEFAULT_SHOW_MAPPING, type SfbAvailability, type ShowMapping } from '../../sfb/availability.js';
import { stanzaError } from '../../xmpp/client.js';
import type { SfbImAnswer, SfbUser, WaitOptions } from '../target.js';
import type { Responder } from './responder.js';
import type { LabUserSpec } from './spec.js';

/**
 * A lab's SfB test user: what his role says he does (echo, accept, none), and, where the suite
 * gives his login, what xfed makes him do in his XMPP session (an XMPP server standing in for the
 * Edge). Without a login xfed can neither see what he receives nor make him act.
 */
export class LabSfbUser implements SfbUser {
  readonly name: string;
  readonly jid: string;
  readonly echoes: boolean;
  readonly answersSubscriptionsHimself: boolean;
  readonly showMapping: ShowMapping = DEFAULT_SHOW_MAPPING;

  constructor(
    spec: LabUserSpec,
    sfbDomain: string,
    private readonly driven: Responder | undefined,
  ) {
    this.name = spec.name;
    this.jid = `${spec.name}@${sfbDomain}`;
    this.echoes = spec.role === 'echo';
    this.answersSubscriptionsHimself = spec.role !== 'none';
  }

  receivesIm(body: string, opts: WaitOptions): Promise<string> {
    const { user } = this.session(`xfed sees an IM reach ${this.name} only through an echo or as ${this.name}`);
    return user
      .waitFor((s) => s.is('message') && s.getChildText('body') === body, opts.timeoutMs, `${this.name} to receive the IM`, opts.signal)
      .then(() => `received by ${this.name}`);
  }

  /**
   * Writes from his session. XMPP has no delivery report, so a ping of the partner's domain follows
   * the message on the same S2S path, as the SfB gateway does: an error for the message arrives
   * before the ping's answer, or the message went out.
   */
  async sendIm(to: string, body: string, opts: WaitOptions): Promise<SfbImAnswer> {
    const { user } = this.session(`${this.name} writes`);
    const id = await user.sendMessage(to, body);
    const domain = to.split('/')[0]!.split('@').pop()!;
    await user.ping(domain, opts.timeoutMs).catch(() => undefined);
    const error = user.received().find((r) => r.stanza.attrs.type === 'error' && r.stanza.attrs.id === id)?.stanza;
    if (!error) return { accepted: true, text: '' };
    const { condition, text } = stanzaError(error);
    return { accepted: false, detail: { error: condition }, text: text ?? '' };
  }

  presence(): { availability: SfbAvailability } | undefined {
    return this.driven ? { availability: this.driven.availability } : undefined;
  }

  async setAvailability(availability: SfbAvailability, note?: string): Promise<void> {
    await this.session(`${this.name} publishes a presence`).setAvailability(availability, note);
  }

  private session(doing: string): Responder {
    if (!this.driven) throw new NotPossible(`${doing}, so xfed must act as ${this.name}: give ${this.name} a login in target.gateway.users`);
    return this.driven;
  }
}
