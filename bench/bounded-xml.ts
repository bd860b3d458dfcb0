// What reading a stream through the bounded parser costs: a stanza of just under the 256 KiB
// limit written one byte per write (the slow drip a hostile peer can send), the same stanza in
// one write, and a run of ordinary chat messages in 16 KiB chunks. Prints figures; asserts nothing.
import { BoundedXmlParser } from '../src/xmpp/bounded-xml.js';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='contoso.test' id='s1' version='1.0'>`;
const FEATURES = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;

/** Feeds the chunks; returns the time, and the elements read or the fault. */
function read(chunks: readonly Buffer[]): { ms: number; outcome: string } {
  const parser = new BoundedXmlParser();
  let elements = 0;
  let fault: string | undefined;
  parser.on('element', () => elements++);
  parser.on('error', (err: Error) => (fault ??= err.message));
  const started = performance.now();
  for (const c of chunks) parser.write(c);
  return { ms: performance.now() - started, outcome: fault ?? `${elements} elements` };
}

const stanza = Buffer.from(`<message><body>${'x'.repeat(256 * 1024 - 40)}</body></message>`);
const drip = [...stanza].map((b) => Buffer.from([b]));
const chat = Buffer.from(
  Array.from({ length: 20_000 }, (_, i) => `<message to='b@y' from='a@x/r' type='chat' id='m${i}'><body>h&#233;llo ${i} &amp; more</body></message>`).join(''),
);
const chatChunks = Array.from({ length: Math.ceil(chat.length / 16384) }, (_, i) => chat.subarray(i * 16384, (i + 1) * 16384));
const head = [Buffer.from(HEADER + FEATURES)];

console.log(`xfed bench: bounded XML parser (Node ${process.version}; best of 3)`);
for (const [name, chunks] of [
  [`${Math.round(stanza.length / 1024)} KiB stanza, 1 byte per write`, [...head, ...drip]],
  [`${Math.round(stanza.length / 1024)} KiB stanza, 1 write`, [...head, stanza]],
  [`20000 chat messages (${(chat.length / 1024 / 1024).toFixed(1)} MiB), 16 KiB writes`, [...head, ...chatChunks]],
] as const) {
  const runs = [read(chunks), read(chunks), read(chunks)];
  const best = Math.min(...runs.map((r) => r.ms));
  console.log(`${name.padEnd(48)} ${best.toFixed(1).padStart(8)} ms   ${runs[0]!.outcome}`);
}
