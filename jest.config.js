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
 * Two projects: `unit` (no servers, milliseconds each; `npm run test:unit` runs them in parallel)
 * and `integration` (real Prosody, SIP and ejabberd; `npm run test:integration` runs one file at a
 * time, so the 2-core machines of CI do not starve Prosody).
 * @type {import('jest').Config}
 */
const config = {
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    { ...common, displayName: 'integration', roots: ['<rootDir>/test/integration'] },
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
