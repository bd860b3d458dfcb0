// Plain JavaScript, so Jest reads it without a TypeScript loader (ts-node) of its own.

// ESM TypeScript through ts-jest; type errors are caught by `npm run typecheck`, not here,
// so ts-jest only transpiles (isolatedModules in tsconfig).
/** @satisfies {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // `xfed` resolves to the sources, so tests import the package the way the README shows.
  moduleNameMapper: { '^xfed$': '<rootDir>/src/index.ts', '^xfed/sim$': '<rootDir>/src/sim.ts', '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['**/*.test.ts'],
};

/**
 * Integration files that run alone, one after the other, after the rest: they count what xfed left
 * on the whole machine (teardown), time it against a bound (the reaper's 20 s after a SIGKILL,
 * which a Docker engine busy with another file's containers once overran), or measure the machine
 * (memory growth per round, rates and latencies held, a Docker image build that takes every core).
 */
const ALONE = ['teardown', 'hard-kill', 'watch-soak', 'load', 'load-tsung', 'xfed-image'];

/**
 * Three projects: `unit` (no servers, milliseconds each; run in parallel), `integration` (real
 * Prosody, SIP and ejabberd; scripts/test-integration.js runs two files at a time on CI's 2 cores:
 * each test waits on protocol events with its own bounds, and counts only what its own runs left)
 * and `integration-alone` (the files above, one at a time).
 * @type {import('jest').Config}
 */
const config = {
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test/integration'],
      testPathIgnorePatterns: [`/test/integration/(${ALONE.join('|')})\\.test\\.ts$`],
    },
    {
      ...common,
      displayName: 'integration-alone',
      roots: ['<rootDir>/test/integration'],
      testMatch: ALONE.map((name) => `**/test/integration/${name}.test.ts`),
    },
  ],
  // Integration tests start real servers; every wait inside them has its own, tighter bound. (A
  // global option: Jest does not take it per project.)
  testTimeout: 60_000,
  // After the last test, Jest ends its process with process.exit. Once in five CI runs of the
  // integration project (in band), Node 24 instead spun at 100% CPU inside its own exit, in
  // FreeEnvironment -> CleanupHandles (gdb), every test passed and nothing of xfed's left running.
  // Leaks are still caught: CI's last step counts what is left, and the tests count their own.
  forceExit: true,
  verbose: true,
};

export default config;
