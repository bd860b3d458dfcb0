import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../infra/project-root.js';

/** The version in xfed's own package.json, so `--version` cannot drift from the release. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
