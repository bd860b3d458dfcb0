#!/usr/bin/env node
// Runs xfed from its TypeScript sources in a clone (through tsx, no build step after `npm ci`),
// or from dist/ in an installed package that ships no sources.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let cli;
if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(src);
} else {
  cli = await import('../dist/src/cli/main.js');
}
process.exit(await cli.main(process.argv));
