import { z } from 'zod';
import { XfedError } from '../errors.js';
import { EdgePoolName } from '../sfb/deployment.js';
import { defineStep, deploymentOf } from './step.js';

/*
 * The legacy Edge pools ("Setting up XMPP federation": one _xmpp-server._tcp SRV record per Edge
 * pool, each with a different priority) and "Failing over the Edge pool used for XMPP federation".
 */

/** What an edge-pool step without either field is told. */
const EDGE_POOL_NEEDS = 'the edge-pool step needs state, priority, or both';

/** An Edge pool down or back up, or the priority of its SRV records changed. */
const edgePoolStep = defineStep({
  action: 'edge-pool',
  fields: {
    pool: EdgePoolName,
    state: z
      .enum(['down', 'up'])
      .optional()
      .describe('down: the pool is unreachable (partners refused, the gateway cut off if it is on the XMPP federation route); up: back'),
    priority: z
      .union([z.number().int().min(0).max(65535), z.literal('none')])
      .optional()
      .describe("The new priority of the pool's _xmpp-server._tcp SRV records (lowest is tried first), or none to remove them"),
  },
  description: 'A legacy Edge pool down or up, or the priority of its SRV records; give one or both',
  appliesTo: 'sim',
  names: { pool: 'edge-pool' },
  conflicts: [{ at: 'action', why: (s) => (s.state === undefined && s.priority === undefined ? EDGE_POOL_NEEDS : undefined) }],
  describe: (s) =>
    [
      s.state !== undefined ? `take Edge pool ${s.pool} ${s.state === 'down' ? 'down' : 'back up'}` : undefined,
      s.priority !== undefined
        ? s.priority === 'none'
          ? `remove the SRV records of Edge pool ${s.pool}`
          : `give the SRV records of Edge pool ${s.pool} priority ${s.priority}`
        : undefined,
    ]
      .filter((p) => p !== undefined)
      .join(', ') || `change nothing on Edge pool ${s.pool}`,
  apply: (s, ctx) => {
    if (s.state === undefined && s.priority === undefined) throw new XfedError(EDGE_POOL_NEEDS);
    return deploymentOf(ctx, s.action).setEdgePool(s.pool, {
      state: s.state,
      priority: s.priority === 'none' ? null : s.priority,
    });
  },
});

/**
 * "Failing over the Edge pool used for XMPP federation": `Set-CsSite -XmppFederationRoute` to
 * another pool (its services restarted), and its SRV record added if it had none.
 */
const xmppFailoverStep = defineStep({
  action: 'xmpp-failover',
  fields: { to: EdgePoolName.describe('The Edge pool that hosts XMPP federation from now on') },
  description: 'Fail XMPP federation over to another legacy Edge pool (Set-CsSite -XmppFederationRoute, its SRV record)',
  appliesTo: 'sim',
  names: { to: 'edge-pool' },
  describe: (s) => `fail XMPP federation over to Edge pool ${s.to}`,
  apply: (s, ctx) => deploymentOf(ctx, s.action).failOverXmpp(s.to),
});

/** The Edge pool steps, in the order the format lists them. */
export const EDGE_POOL_STEP_KINDS = [edgePoolStep, xmppFailoverStep] as const;
