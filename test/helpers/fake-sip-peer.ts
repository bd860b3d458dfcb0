import { SipEndpoint, type IncomingRequest, type SipResponseInit, type SipTarget, type SipTransport } from '../../src/sip/endpoint.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { Inbox } from './inbox.js';

type Answer = SipResponseInit | ((req: IncomingRequest) => SipResponseInit | Promise<SipResponseInit>);
type RequestMatch = string | ((req: SipRequest) => boolean);

const matches = (match: RequestMatch, req: SipRequest) => (typeof match === 'string' ? req.method === match : match(req));

/**
 * The far end of the gateway's or a pool's SIP traffic, scripted by a test: the project's own
 * SipEndpoint on loopback, which records every request it gets and answers as the test says
 * (200 unless told otherwise).
 */
export class FakeSipPeer {
  /** Every request received, in order. */
  readonly received: IncomingRequest[] = [];
  private readonly inbox = new Inbox<IncomingRequest>();
  private rules: Array<{ match: RequestMatch; answer: Answer }> = [];
  private onceRules: Array<{ match: RequestMatch; answer: Answer }> = [];

  private constructor(readonly endpoint: SipEndpoint) {}

  static async start(name = 'fake-peer'): Promise<FakeSipPeer> {
    const holder: { peer?: FakeSipPeer } = {};
    const endpoint = await SipEndpoint.listen({ name, onRequest: (req) => holder.peer!.onRequest(req) });
    return (holder.peer = new FakeSipPeer(endpoint));
  }

  target(transport: SipTransport = 'udp'): SipTarget {
    return this.endpoint.target(transport);
  }

  contactUri(user?: string, transport?: SipTransport): string {
    return this.endpoint.contactUri(user, transport);
  }

  /** From now on, requests that match (a method name, or a predicate) get `answer`; the latest rule wins. */
  answer(match: RequestMatch, answer: Answer): void {
    this.rules.unshift({ match, answer });
  }

  /** The next request that matches gets `answer`, once; answers given once go first, in the order given. */
  answerOnce(match: RequestMatch, answer: Answer): void {
    this.onceRules.push({ match, answer });
  }

  /** The first request received that matches and was not taken yet, waiting for it within `ms`. */
  async next(match: RequestMatch, what: string, ms = 2_000): Promise<SipRequest> {
    return (await this.inbox.next((r) => matches(match, r.request), what, ms)).request;
  }

  /** Received, matching, and not taken yet. */
  untaken(match: RequestMatch = () => true): SipRequest[] {
    return this.inbox.peek((r) => matches(match, r.request)).map((r) => r.request);
  }

  /** Sends a request as this peer and resolves with its final response. */
  request(target: SipTarget, req: Omit<SipRequest, 'kind'> | SipRequest, timeoutMs = 2_000): Promise<SipResponse> {
    return this.endpoint.request(target, req, { timeoutMs });
  }

  async stop(): Promise<void> {
    await this.endpoint.close();
  }

  private async onRequest(req: IncomingRequest): Promise<SipResponseInit> {
    this.received.push(req);
    this.inbox.push(req);
    const once = this.onceRules.find((r) => matches(r.match, req.request));
    if (once) this.onceRules = this.onceRules.filter((r) => r !== once);
    const rule = once ?? this.rules.find((r) => matches(r.match, req.request));
    if (!rule) return { status: 200 };
    return typeof rule.answer === 'function' ? rule.answer(req) : rule.answer;
  }
}
