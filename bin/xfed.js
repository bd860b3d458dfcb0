#!/usr/bin/env node
// Runs xfed from dist/, which `npm ci` (the prepare script) and `npm pack` build. In a clone whose
// src/ changed after the last build, it runs the sources through tsx instead, so a developer never
// runs stale code; an installed package ships no src/ and never needs tsx.
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// package.json's engines field: said here in one line, before an older Node fails somewhere deep.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`xfed: needs Node.js 22.12 or newer (24 LTS recommended); this is ${process.version} (${process.execPath})\n`);
  process.exit(2);
}

const dist = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const src = fileURLToPath(new URL('../src/', import.meta.url));

function changedSinceBuild() {
  if (!existsSync(src)) return false;
  if (!existsSync(dist)) return true;
  const built = statSync(dist).mtimeMs;
  // About 200 files: a few milliseconds.
  return readdirSync(src, { recursive: true, withFileTypes: true }).some(
    (entry) => entry.isFile() && statSync(`${entry.parentPath}/${entry.name}`).mtimeMs > built,
  );
}

// V8's compiled code of xfed and its dependencies is kept on disk (Node's own cache directory in the
// system's temp dir) and reused by the next start: about a third off `validate`.
module.enableCompileCache?.();

let cli;
if (changedSinceBuild()) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(`${src}cli/main.ts`);
} else {
  cli = await import(dist);
}
const code = await cli.main(process.argv);
// Piped output is written asynchronously: exiting before it drains would cut it (at 64 KiB). A
// reader that went away (`| head`) ends the wait with an error, and a stuck one after 10 s.
const drained = (stream) =>
  new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) return resolve();
    stream.once('error', resolve);
    stream.write('', resolve);
    setTimeout(resolve, 10_000).unref();
  });
await Promise.all([process.stdout, process.stderr].map(drained));
process.exit(code);
