import type { SfbAvailability } from '../../../sfb/availability.js';
import { buildRequest, type SipResponseInit } from '../../../sip/endpoint.js';
import { newCallId, newTag, parseSipUri, uriOf, type SipRequest, type SipResponse } from '../../../sip/message.js';
import type { SfbUserState } from './directory.js';
import { isOffline, toUri, type HomePool, type ImOptions } from './home-pool.js';
import type { PresenceNotifier } from './presence-notifier.js';
import type { SipUserEvent } from './user-event.js';

/**
 * The simulated users of one pool as their `behaviour` scripts them: how each answers an IM, the
 * echo user's reply, and what a user does on his own (writes, changes his availability).
 */
export class ScriptedUsers {
  private cseq = 1;

  constructor(private readonly pool: HomePool) {}

  onMessage(user: SfbUserState, req: SipRequest, external: boolean): SipResponseInit {
    const type = (req.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'text/plain') return { status: 415, headers: { Accept: 'text/plain' } };
    const status = isOffline(user) ? 480 : user.behaviour === 'reject' ? 603 : 200;
    const from = uriOf(req.headers.get('From')) ?? '';
    const event: SipUserEvent = { user: user.name, kind: 'im', from, body: req.body, status, at: Date.now() };
    const subject = req.headers.get('Subject');
    const lang = req.headers.get('Content-Language');
    const callId = req.headers.get('Call-ID');
    if (subject !== undefined) event.subject = subject;
    if (lang !== undefined) event.lang = lang;
    if (callId !== undefined) event.callId = callId;
    this.pool.userEvent(event);
    const init: SipResponseInit = { status };
    // Only XMPP senders get an echo: two SfB echo users would otherwise echo each other forever.
    if (status === 200 && user.behaviour === 'echo' && external) init.afterSend = () => this.pool.inBackground(this.echo(user, req, from));
    return init;
  }

  /** An IM from `user`, who is homed on this pool. */
  async sendIm(user: SfbUserState, to: string, body: string, opts?: ImOptions): Promise<SipResponse> {
    // A GRUU (`;gr=`, an XMPP resource on the far side) is kept, so the IM reaches one client.
    const gr = /^sips?:/i.test(to) ? parseSipUri(to).params.gr : undefined;
    const uri = gr ? `${toUri(to)};gr=${gr}` : toUri(to);
    const req = buildRequest({
      method: 'MESSAGE',
      uri,
      from: `<${user.uri}>;tag=${newTag()}`,
      to: `<${uri}>`,
      callId: opts?.callId ?? newCallId(this.pool.endpoint.host),
      cseq: this.cseq++,
      headers: { Subject: opts?.subject, 'Content-Language': opts?.lang },
      body,
      contentType: opts?.contentType ?? 'text/plain; charset=UTF-8',
    });
    return this.pool.userSend(user, req);
  }

  /** Publishes new state and NOTIFYs every active watcher, with whichever notifier holds the dialog. */
  async setAvailability(user: string, availability: SfbAvailability, note: string | undefined, notifiers: PresenceNotifier[]): Promise<void> {
    this.pool.directory.setPresence(this.pool.mustUser(user).name, availability, note);
    await Promise.all(notifiers.map((n) => n.notifyWatchers(user)));
  }

  // The echo user answers with the same text, Subject, language and Call-ID (the XMPP thread).
  private async echo(user: SfbUserState, req: SipRequest, to: string): Promise<void> {
    const event: SipUserEvent = { user: user.name, kind: 'echo', from: to, body: req.body, at: 0 };
    try {
      const opts: ImOptions = { callId: req.headers.get('Call-ID') ?? newCallId(this.pool.endpoint.host) };
      const subject = req.headers.get('Subject');
      const lang = req.headers.get('Content-Language');
      if (subject !== undefined) opts.subject = subject;
      if (lang !== undefined) opts.lang = lang;
      event.status = (await this.pool.sendIm(user.name, to, req.body, opts)).status;
    } catch (err) {
      event.error = (err as Error).message;
    }
    event.at = Date.now();
    this.pool.userEvent(event);
  }
}
