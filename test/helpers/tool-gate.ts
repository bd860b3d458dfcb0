import { describe } from '@jest/globals';
import { spawnSync } from 'node:child_process';

/** The system tools some tests need beside the runtimes, how to ask each for its version, and its Debian package. */
const TOOLS = {
  tsung: { probe: ['tsung', '-v'], install: 'apt-get install tsung' },
  prometheus: { probe: ['promtool', '--version'], install: 'apt-get install prometheus' },
} as const;
type Tool = keyof typeof TOOLS;

const missing = new Map<Tool, string | null>();

/** Why the tool cannot run here, or undefined. */
function toolMissing(tool: Tool): string | undefined {
  if (!missing.has(tool)) {
    const { probe, install } = TOOLS[tool];
    const r = spawnSync(probe[0], probe.slice(1), { encoding: 'utf8', timeout: 10_000 });
    missing.set(tool, r.error || r.status !== 0 ? `${probe[0]} is not installed (${install})` : null);
  }
  return missing.get(tool) ?? undefined;
}

/**
 * A describe block that needs a system tool: skipped with the reason where it is missing, unless
 * XFED_REQUIRE_RUNTIMES names the tool, as CI does: then it runs and fails saying what is missing.
 */
export function describeWithTool(tool: Tool, name: string, body: () => void): void {
  const why = toolMissing(tool);
  const required = (process.env.XFED_REQUIRE_RUNTIMES ?? '').split(',').includes(tool);
  if (why && !required) {
    process.stderr.write(`xfed tests: ${name} skipped: ${why}\n`);
    describe.skip(`${name} (skipped: ${why})`, body);
  } else describe(name, body);
}
