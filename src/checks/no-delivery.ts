import { fail, pass, sfbJid, sfbSide, type CheckKindHandler } from './check.js';

/** An IM from a partner user that must not reach the SfB user, proved with a barrier. */
export const noDeliveryCheck: CheckKindHandler<'no-delivery'> = {
  kind: 'no-delivery',
  title: (c) => `${c.from}'s IM does not reach ${c.to}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const body = check.body ?? `xfed ${check.id} ${Math.random().toString(36).slice(2, 8)}`;
    let delivered = false;
    const off = sfbSide(ctx, 'no-delivery').onEvent((e) => {
      if (e.kind === 'im' && e.user.toLowerCase() === check.to.toLowerCase() && e.body === body) delivered = true;
    });
    const started = performance.now();
    try {
      await alice.sendMessage(sfbJid(ctx, check.to), body);
      await ctx.target.barrier(alice, ctx.timeoutMs);
    } finally {
      off();
    }
    const latencyMs = performance.now() - started;
    return delivered ? { outcome: fail({ delivery: 'delivered' }, `${check.to} received it`), latencyMs } : { outcome: pass('not delivered before the barrier'), latencyMs };
  },
};
