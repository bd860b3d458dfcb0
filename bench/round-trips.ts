import type { XmppUser } from '../src/xmpp/client.js';

export interface RoundTrips {
  /** The first message, which also sets up both S2S streams. */
  firstMs: number;
  /** Round trips one at a time, after 50 more for warm-up, sorted. */
  rtts: number[];
  sequentialPerS: number;
  /** The rate with `window` messages in flight. */
  pipelinedPerS: number;
}

/** IMs from `user` to an echo user `to`, each timed until its echo arrives. */
export async function measureRoundTrips(user: XmppUser, to: string, total: number, window: number): Promise<RoundTrips> {
  const roundTrip = async (i: number) => {
    const body = `rtt ${i}`;
    const started = performance.now();
    await user.sendMessage(to, body);
    await user.waitFor((s) => s.is('message') && s.getChildText('body') === body, 10_000, `the echo of message ${i}`);
    return performance.now() - started;
  };
  const firstMs = await roundTrip(-1);
  for (let i = 0; i < 50; i++) await roundTrip(-2 - i);

  const rtts: number[] = [];
  const sequentialStarted = performance.now();
  for (let i = 0; i < total; i++) rtts.push(await roundTrip(i));
  const sequentialPerS = total / ((performance.now() - sequentialStarted) / 1000);
  rtts.sort((a, b) => a - b);

  let next = 0;
  const pipelinedStarted = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < total) await roundTrip(total + next++);
    }),
  );
  const pipelinedPerS = total / ((performance.now() - pipelinedStarted) / 1000);
  return { firstMs, rtts, sequentialPerS, pipelinedPerS };
}
