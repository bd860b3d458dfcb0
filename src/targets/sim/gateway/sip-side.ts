import type { Cite } from '../../../sfb/behaviours/log.js';
import type { SipEndpoint, SipTarget } from '../../../sip/endpoint.js';
import type { SipRequest, SipResponse } from '../../../sip/message.js';
import { sipStatusToStanzaError } from '../mapping/errors.js';

/** The gateway's SIP side: its endpoint, and the legacy pool every request goes to. */
export class SipSide {
  private cseq = 1;

  constructor(
    private readonly endpoint: SipEndpoint,
    readonly pool: SipTarget,
    private readonly timeoutMs: number,
    private readonly onError: (err: unknown) => void,
    private readonly cite: Cite,
  ) {}

  get host(): string {
    return this.endpoint.host;
  }

  /** The gateway's Contact, a URI that names no user. */
  contact(transport: SipTarget['transport']): string {
    return `<${this.endpoint.contactUri(undefined, transport)}>`;
  }

  /** The CSeq of an out-of-dialog request (MESSAGE, OPTIONS). */
  nextCseq(): number {
    return this.cseq++;
  }

  async request(request: SipRequest, target: SipTarget = this.pool): Promise<SipResponse> {
    try {
      return await this.endpoint.request(target, request, { timeoutMs: this.timeoutMs });
    } catch (err) {
      // No answer from the pool is a 408 (RFC 3261 section 8.1.3.1): a partner sees remote-server-timeout.
      this.onError(err);
      this.cite('errors.sip-timeout-408');
      return { kind: 'response', status: 408, reason: 'Request Timeout', headers: request.headers.clone(), body: '' };
    }
  }
}

/**
 * The stanza error (condition, text) a SIP failure becomes (RFC 7247 section 7.2), the text naming
 * the status and Warning; callers cite `errors.sip-to-xmpp`.
 */
export function stanzaErrorOf(res: SipResponse): [string, string] {
  const { condition } = sipStatusToStanzaError(res.status);
  const warning = res.headers.get('Warning');
  return [condition, `SIP ${res.status} ${res.reason}${warning ? ` (${warning})` : ''}`];
}
