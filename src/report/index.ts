/** The reports rendered from a results file, for the CLI and for users' own tooling. */
export type * from './results.js';
export { renderJunit } from './junit.js';
export { renderHtml } from './html.js';
export { renderComparisonMarkdown, renderComparisonText } from './compare-render.js';
export { renderComparisonHtml } from './compare-html.js';
export {
  compareResults,
  type CheckSide,
  type ComparedCheck,
  type Comparison,
  type LatencyChange,
  type LatencyStat,
  type RunInfo,
} from './compare.js';
export { parseResults, readResultsFile, RESULTS_FORMAT } from './read-results.js';
export { percentile } from './percentile.js';
export { exitCodeOf, formatCheckLine, formatPhaseHeader, formatStepLine, formatSummary, formatVerdictMatrix, type ConsoleOptions } from './console.js';
