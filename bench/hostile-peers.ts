// What a misbehaving peer costs xfed: for each class of hostile peer (test/helpers/hostile-peer.ts,
// on loopback), the S2S probe and a c2s login against it, the time to verdict, the peak RSS and
// heap of this process while it ran (sampled every 2 ms, after a GC between classes when run with
// --expose-gc), and how many bytes the peer got to write. Then the link relay under a flood its
// reader does not take, and the SIP endpoint under header and Content-Length floods. Prints
// figures; asserts nothing (the bounds are asserted by test/integration/hostile-peers.test.ts).
import { once } from 'node:events';
import net from 'node:net';
import { resourceUsage } from 'node:process';
import { LinkProxy, type LinkData } from '../src/infra/link-proxy.js';
import { TestCa } from '../src/infra/pki.js';
import { SipEndpoint } from '../src/sip/endpoint.js';
import { XmppUser } from '../src/xmpp/client.js';
import { probeS2s } from '../src/xmpp/s2s-probe.js';
import { HOSTILE_CLASSES, startHostilePeer } from '../test/helpers/hostile-peer.js';

const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

/** Runs `work`, sampling memory; returns its time and the peaks above the baseline before it. */
async function measure<T>(work: () => Promise<T>): Promise<{ ms: number; rss: number; heap: number; result: T }> {
  gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, 2);
  const started = performance.now();
  try {
    const result = await work();
    sample();
    return { ms: performance.now() - started, rss: rss / MB, heap: heap / MB, result };
  } finally {
    clearInterval(timer);
  }
}

const row = (cols: Array<string | number>) => console.log(cols.map((c, i) => String(c).padEnd(i === 0 ? 26 : 14)).join(''));
const fmt = (n: number) => n.toFixed(1);

const ca = await TestCa.create();
const edgeCert = await ca.issue('contoso.test');
const partnerCert = await ca.issue('partner.test');
console.log(`xfed bench: hostile peers (read deadline 1500 ms; Node ${process.version}${gc ? '' : '; run with --expose-gc for per-class baselines'})`);
row(['class', 'reader', 'verdict ms', 'peak RSS MB', 'peak heap MB', 'peer sent KiB']);
for (const kind of HOSTILE_CLASSES) {
  for (const reader of ['s2s probe', 'c2s login'] as const) {
    const peer = await startHostilePeer(kind, { cert: edgeCert });
    try {
      const m = await measure(async () =>
        reader === 's2s probe'
          ? (await probeS2s({ ...peer, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, clientCert: partnerCert, timeoutMs: 1_500 })).error
          : await XmppUser.connect({ jid: 'erin@contoso.test', password: 'pw', endpoint: peer, trustPem: ca.certPem, timeoutMs: 1_500 }).then(
              () => 'logged in',
              (err: Error) => err.message,
            ),
      );
      row([kind, reader, Math.round(m.ms), fmt(m.rss), fmt(m.heap), Math.round(peer.sent / 1024)]);
    } finally {
      await peer.stop();
    }
  }
}

// The link relay between a flood and a client that reads nothing, for two seconds.
{
  let written = 0;
  const floods = new Set<net.Socket>();
  const flood = net.createServer((s) => {
    floods.add(s);
    s.on('error', () => undefined);
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const pump = () => {
      while (!s.destroyed && written < 1024 * MB) {
        written += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
    };
    pump();
  });
  await new Promise<void>((r) => flood.listen(0, '127.0.0.1', () => r()));
  const relay = await LinkProxy.start('flood', '127.0.0.1', { host: '127.0.0.1', port: (flood.address() as net.AddressInfo).port });
  let relayed = 0;
  relay.on('data', (d: LinkData) => (relayed += d.chunk.length));
  const m = await measure(async () => {
    const client = net.connect(relay.address.port, '127.0.0.1');
    client.pause();
    await new Promise((r) => setTimeout(r, 2_000)); // the flood's duration, not a wait for an event
    client.destroy();
  });
  await relay.stop();
  floods.forEach((s) => s.destroy());
  await new Promise<void>((r) => flood.close(() => r()));
  row(['relay flood, 2 s', 'link relay', '-', fmt(m.rss), fmt(m.heap), Math.round(written / 1024)]);
  console.log(`  the relay took ${fmt(relayed / MB)} MiB from the flood in 2 s with nobody reading (bound: 1 MiB held per direction, plus socket buffers)`);
}

// The SIP endpoint: a request claiming a terabyte body, and 5000 header lines.
{
  const endpoint = await SipEndpoint.listen({ name: 'pool', onRequest: () => ({ status: 200 }) });
  endpoint.on('malformed', () => undefined);
  const head = (extra: string, length: number) =>
    `MESSAGE sip:erin@contoso.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKb1\r\nFrom: <sip:b@p.test>;tag=1\r\nTo: <sip:erin@contoso.test>\r\nCall-ID: b@x\r\nCSeq: 1 MESSAGE\r\n${extra}Content-Length: ${length}\r\n\r\n`;
  for (const [name, data] of [
    ['sip Content-Length 1 TB', head('', 10 ** 12)],
    ['sip 5000 header lines', head(Array.from({ length: 5_000 }, (_, i) => `X-F-${i}: ${'v'.repeat(20)}\r\n`).join(''), 0)],
  ] as const) {
    const m = await measure(async () => {
      const s = net.connect(endpoint.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume();
      s.write(data);
      await once(s, 'close');
    });
    row([name, 'sip endpoint', Math.round(m.ms), fmt(m.rss), fmt(m.heap), Math.round(Buffer.byteLength(data) / 1024)]);
  }
  await endpoint.close();
}
console.log(`peak RSS of the whole run (resourceUsage maxRSS): ${fmt(resourceUsage().maxRSS / 1024)} MB`);
process.exit(0);
