import { z } from 'zod';
import { XfedError } from '../errors.js';
import { INTERNAL_HOP_CERTIFICATES, INTERNAL_HOP_PORTS } from '../sfb/deployment.js';
import { defineStep, deploymentOf } from './step.js';

/** What an internal-hop step without either field is told. */
const INTERNAL_HOP_NEEDS = 'the internal-hop step needs certificate, port, or both';

/**
 * The internal hop from the legacy pool's XMPP gateway to the Edge's internal interface (XMPP over
 * MTLS, TCP 23456, "Port summary - XMPP federation"): the Edge's internal certificate renewed
 * expired, from an untrusted CA, or valid again, and the internal firewall blocking or opening the
 * port. The gateway reconnects through the hop as it then is; what it could not do is the output.
 */
const internalHopStep = defineStep({
  action: 'internal-hop',
  fields: {
    certificate: z
      .enum(INTERNAL_HOP_CERTIFICATES)
      .optional()
      .describe("The Edge's internal certificate: valid, expired, or untrusted (from a CA the Front End does not trust)"),
    port: z.enum(INTERNAL_HOP_PORTS).optional().describe('The internal firewall on TCP 23456 from the Front End to the Edge: open or blocked'),
  },
  description: "The Front End -> Edge internal hop (XMPP over MTLS, TCP 23456): the Edge's internal certificate, or the internal firewall",
  appliesTo: 'sim',
  conflicts: [{ at: 'action', why: (s) => (s.certificate === undefined && s.port === undefined ? INTERNAL_HOP_NEEDS : undefined) }],
  describe: (s) =>
    [
      s.certificate !== undefined ? `renew the Edge's internal certificate (${s.certificate})` : undefined,
      s.port !== undefined ? `${s.port === 'blocked' ? 'block' : 'open'} TCP 23456 from the Front End to the Edge` : undefined,
    ]
      .filter((p) => p !== undefined)
      .join(', ') || 'change nothing on the internal hop',
  apply: (s, ctx) => {
    if (s.certificate === undefined && s.port === undefined) throw new XfedError(INTERNAL_HOP_NEEDS);
    return deploymentOf(ctx, s.action).setInternalHop({ certificate: s.certificate, port: s.port });
  },
});

/** The internal-hop steps, in the order the format lists them. */
export const EDGE_INTERNAL_STEP_KINDS = [internalHopStep] as const;
