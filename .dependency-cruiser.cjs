// The layers of src/, top to bottom: a folder imports only from the layers below it (docs/architecture.md).
// `npm run lint` runs this with dependency-cruiser; a cycle or an upward import fails it.
const LAYERS = [
  { name: 'cli', path: '^src/cli/' },
  { name: 'entry points', path: '^src/(index|sim)\\.ts$' },
  [
    { name: 'watch', path: '^src/watch/' },
    { name: 'load', path: '^src/load/' },
  ],
  { name: 'runner', path: '^src/runner/' },
  { name: 'scenario', path: '^src/scenario/' },
  [
    { name: 'checks', path: '^src/checks/' },
    { name: 'matrix', path: '^src/matrix/' },
  ],
  { name: 'report', path: '^src/report/' },
  { name: 'targets', path: '^src/targets/' },
  { name: 'steps', path: '^src/steps/' },
  { name: 'partner', path: '^src/partner/' },
  [
    { name: 'sfb', path: '^src/sfb/' },
    { name: 'prosody', path: '^src/prosody/' },
    { name: 'jest', path: '^src/jest/' },
  ],
  [
    { name: 'sip', path: '^src/sip/' },
    { name: 'xmpp', path: '^src/xmpp/' },
  ],
  { name: 'infra', path: '^src/infra/' },
  { name: 'errors', path: '^src/(errors\\.ts|types/)' },
];

// Each layer may not import its own level's siblings, nor anything above it.
const levels = LAYERS.map((l) => (Array.isArray(l) ? l : [l]));
const upward = levels.flatMap((level, i) =>
  level
    .map((layer) => ({ layer, above: [...levels.slice(0, i).flat(), ...level.filter((l) => l !== layer)].map((l) => l.path) }))
    .filter(({ above }) => above.length > 0)
    .map(({ layer, above }) => ({
      name: `${layer.name}-imports-downward-only`,
      comment: `${layer.name} may import only the layers below it`,
      severity: 'error',
      from: { path: layer.path },
      to: { path: above },
    })),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'files that import each other, however far round',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    {
      name: 'lab-target-never-imports-the-simulation',
      comment: 'a real gateway target stands on the SfB model and the contract, never on the simulation',
      severity: 'error',
      from: { path: '^src/targets/lab/' },
      to: { path: '^src/targets/sim/' },
    },
    {
      name: 'the-contract-imports-no-implementation',
      comment: 'targets/target.ts is the contract both targets keep',
      severity: 'error',
      from: { path: '^src/targets/target\\.ts$' },
      to: { path: '^src/targets/(sim|lab)/' },
    },
  ],
  options: {
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports are arrows too: a contract that imports an implementation's types depends on it.
    tsPreCompilationDeps: true,
  },
};
