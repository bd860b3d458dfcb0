import path from 'node:path';
import { HtmlReporter } from './html.js';
import { JunitReporter } from './junit.js';
import type { Reporter } from './reporter.js';
import { ReportFile, ResultsFileReporter } from './results-file.js';

/** The files of a run in `dir`: results.json as it goes, junit.xml and report.html at the end. */
export function reportFiles(dir: string): { results: string; junit: string; html: string } {
  return { results: path.join(dir, 'results.json'), junit: path.join(dir, 'junit.xml'), html: path.join(dir, 'report.html') };
}

/** The reporters that write a run's files into `dir` (results.json first, so the others render from what it holds). */
export function fileReporters(dir: string): Reporter[] {
  const files = reportFiles(dir);
  return [new ResultsFileReporter(files.results), new JunitReporter(files.junit), new HtmlReporter(files.html)];
}

/** The report files among `reporters` whose newest write failed, each with why: `cannot write FILE: REASON`. */
export function unwrittenReports(reporters: readonly Reporter[]): string[] {
  return reporters.flatMap((r) => {
    const why = (r as { output?: ReportFile }).output?.unwritten;
    return why ? [why] : [];
  });
}
