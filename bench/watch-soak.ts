// Soak of `xfed watch` against the simulation: memory, descriptors and sockets of the watch and of
// its Prosody children over time, and their slopes after a warm-up. Prints figures; asserts only
// that the watch ends on SIGINT with its summary and leaves no process behind.
//   node --import tsx bench/watch-soak.ts --minutes 30 [--interval 1s] [--suite scenarios/smoke.yaml]
//     [--every 10] [--warmup 300] [--json FILE] [--out DIR]
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setInterval as every } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ROOT } from '../test/helpers/cli-process.js';
import { SoakedWatch, formatSamples, formatSummary, summarize, type SoakSample } from '../test/helpers/soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    interval: { type: 'string', default: '1s' },
    suite: { type: 'string', default: path.join(ROOT, 'scenarios', 'smoke.yaml') },
    every: { type: 'string', default: '10' },
    warmup: { type: 'string' },
    json: { type: 'string' },
    out: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const everySec = Number(values.every);
// Startup (compiled code, the first sessions) is over within minutes: slopes start after it.
const warmupSec = values.warmup !== undefined ? Number(values.warmup) : Math.min(300, (minutes * 60) / 6);
if (!(minutes > 0) || !(everySec > 0) || !(warmupSec >= 0)) {
  process.stderr.write('watch-soak: --minutes, --every and --warmup must be positive numbers\n');
  process.exit(2);
}

const out = values.out ?? (await mkdtemp(path.join(os.tmpdir(), 'watch-soak-')));
const json = values.json ?? path.join(out, 'soak.json');
console.log(`watch soak: ${values.suite} every ${values.interval} for ${minutes} min, sampled every ${everySec} s, warm-up ${warmupSec} s; out ${out}`);

const watch = await SoakedWatch.start({ suite: values.suite, interval: values.interval, out: path.join(out, 'watch') });
let ended: string | undefined;
const stopOnSignal = () => void (ended = 'the bench was interrupted');
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);
let stopping = false;
watch.child.once('exit', () => void (stopping || (ended ??= 'the watch exited on its own')));

const samples: SoakSample[] = [];
const endAt = Date.now() + minutes * 60_000;
let printedMinute = -1;
const started = Date.now();
samples.push(await watch.sample());
console.log(formatSamples(samples));
for await (const _ of every(everySec * 1000)) {
  if (ended || Date.now() >= endAt) break;
  const s = await watch.sample();
  samples.push(s);
  // A row a minute: the table stays readable over half an hour.
  const minute = Math.floor(s.t / 60);
  if (minute !== printedMinute) {
    printedMinute = minute;
    console.log(formatSamples([s]).split('\n')[1]);
  }
}

stopping = true;
const stop = await watch.stop(60_000);
const summary = summarize(samples, warmupSec);
console.log(`\n${samples.length} samples over ${((Date.now() - started) / 60_000).toFixed(1)} min, ${samples.at(-1)!.rounds} rounds`);
console.log(formatSummary(summary, warmupSec));
await writeFile(json, `${JSON.stringify({ suite: values.suite, interval: values.interval, minutes, everySec, warmupSec, samples, summary, stop }, null, 2)}\n`);
console.log(`samples: ${json}`);

const problems: string[] = [];
if (ended && ended !== 'the bench was interrupted') problems.push(ended);
if (stop.killed) problems.push('the watch did not end within 60 s of SIGINT (killed)');
else if (stop.code !== 130) problems.push(`the watch exited ${stop.code ?? stop.signal} on SIGINT, not 130`);
if (!/^watch of /m.test(watch.stdout())) problems.push('no summary printed on SIGINT');
if (stop.leftBehind.length > 0) problems.push(`left behind: ${stop.leftBehind.join(', ')}`);
console.log(problems.length === 0 ? 'stop: exit 130 with a summary, nothing left behind' : `stop: ${problems.join('; ')}\n${watch.stderr().slice(-2000)}`);
process.exitCode = problems.length === 0 ? 0 : 1;
