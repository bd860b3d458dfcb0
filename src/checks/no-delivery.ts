import { barrier, fail, pass, sfbJid, type CheckKindHandler } from './check.js';

/** An IM from a partner user that must not reach the SfB user, proved with a barrier. */
export const noDeliveryCheck: CheckKindHandler<'no-delivery'> = {
  kind: 'no-delivery',
  title: (c) => `${c.from}'s IM does not reach ${c.to}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const body = check.body ?? `xfed ${check.id} ${Math.random().toString(36).slice(2, 8)}`;
    const user = ctx.target.directory.get(check.to);
    let delivered = false;
    const seen = (e: { kind: string; user: string; body?: string }) => {
      if (e.kind === 'im' && e.user === user?.name && e.body === body) delivered = true;
    };
    const pools = Object.values(ctx.target.pools);
    pools.forEach((p) => p.on('user-event', seen));
    const started = performance.now();
    try {
      await alice.sendMessage(sfbJid(ctx, check.to), body);
      await barrier(ctx, alice);
    } finally {
      pools.forEach((p) => p.off('user-event', seen));
    }
    const latencyMs = performance.now() - started;
    return delivered ? { outcome: fail({ delivery: 'delivered' }, `${check.to} received it`), latencyMs } : { outcome: pass('not delivered before the barrier'), latencyMs };
  },
};
