import { echoes, fail, pass, sfbJid, watchIms, type CheckKindHandler } from './check.js';

/** An IM from a partner user that must not reach the SfB user (nor echo back), proved with a barrier. */
export const noDeliveryCheck: CheckKindHandler<'no-delivery'> = {
  kind: 'no-delivery',
  title: (c) => `${c.from}'s IM does not reach ${c.to}`,
  async run(check, ctx) {
    const alice = await ctx.target.partnerUser(check.from);
    const body = check.body ?? `xfed ${check.id} ${Math.random().toString(36).slice(2, 8)}`;
    const echoed = echoes(ctx, check.to, 'no-delivery');
    let delivered = false;
    const watch = echoed ? undefined : watchIms(ctx, check.to, body, 'no-delivery');
    watch?.received.then(() => (delivered = true)).catch(() => undefined);
    const mark = alice.received().length;
    const started = performance.now();
    try {
      await alice.sendMessage(sfbJid(ctx, check.to), body);
      await ctx.target.barrier(alice, ctx.timeoutMs);
      // An echo comes back before the barrier's own.
      if (echoed) delivered = alice.received().slice(mark).some((r) => r.stanza.is('message') && r.stanza.attrs.type !== 'error' && r.stanza.getChildText('body') === body);
    } finally {
      watch?.stop();
    }
    const latencyMs = performance.now() - started;
    return delivered ? { outcome: fail({ delivery: 'delivered' }, `${check.to} received it`), latencyMs } : { outcome: pass('not delivered before the barrier'), latencyMs };
  },
};
