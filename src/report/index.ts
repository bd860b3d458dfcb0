/** The reporters and the reports rendered from a results file, for the CLI and for users' own tooling. */
export type * from './results.js';
export { ReporterMux, type CheckStart, type Reporter } from './reporter.js';
export { LiveReporter } from './live.js';
export { ResultsFileReporter } from './results-file.js';
export { fileReporters, reportFiles, unwrittenReports } from './files.js';
export { JunitReporter, renderJunit } from './junit.js';
export { HtmlReporter, renderHtml } from './html.js';
export { renderComparisonMarkdown, renderComparisonText } from './compare-render.js';
export { renderComparisonHtml } from './compare-html.js';
export { compareResults, type CheckSide, type ComparedCheck, type Comparison, type LatencyChange, type LatencyStat, type RunInfo } from './compare.js';
export { parseResults, readResultsFile, RESULTS_FORMAT } from './read-results.js';
export { percentile } from './percentile.js';
export { verdictOf, type Verdict } from './format.js';
export { exitCodeOf, formatCheckLine, formatPhaseHeader, formatStepLine, formatSummary, formatVerdictMatrix, type ConsoleOptions } from './console.js';
