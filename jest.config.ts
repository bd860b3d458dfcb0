import type { Config } from 'jest';

// ESM TypeScript through ts-jest; type errors are caught by `npm run typecheck`, not here,
// so ts-jest only transpiles (isolatedModules in tsconfig).
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // `xfed` resolves to the sources, so tests import the package the way the README shows.
  moduleNameMapper: { '^xfed$': '<rootDir>/src/index.ts', '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Integration tests start real servers; every wait inside them has its own, tighter bound.
  testTimeout: 60_000,
  // One integration file at a time keeps the 2-core machine from starving Prosody.
  maxWorkers: 1,
  verbose: true,
};

export default config;
