import { readFileSync } from 'node:fs';

/**
 * The version in xfed's own package.json: two levels up from src/cli in a clone, three from
 * dist/src/cli in an installed package.
 */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'xfed' && pkg.version) return pkg.version;
    } catch {
      // Not at this level: try the next.
    }
  }
  return 'unknown';
}
