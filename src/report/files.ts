import path from 'node:path';
import { XfedError } from '../errors.js';
import { HtmlReporter } from './html.js';
import { MarkdownSummaryReporter } from './github.js';
import { JunitReporter } from './junit.js';
import type { Reporter } from './reporter.js';
import { ReportFile, ResultsFileReporter } from './results-file.js';

/** The files of a run in `dir`: results.json as it goes, junit.xml and report.html at the end. */
export function reportFiles(dir: string): { results: string; junit: string; html: string } {
  return { results: path.join(dir, 'results.json'), junit: path.join(dir, 'junit.xml'), html: path.join(dir, 'report.html') };
}

/** The reporters that write a run's files into `dir` (results.json first, so the others render from what it holds). */
export function fileReporters(dir: string): Reporter[] {
  return reportersFor(reportFiles(dir));
}

/** The reporters for the given files, results.json first; a file left out is not written. */
export function reportersFor(files: ReportPaths): Reporter[] {
  const reports = [files.html, files.junit, files.results].filter((f) => f !== undefined);
  return [
    new ResultsFileReporter(files.results),
    ...(files.junit ? [new JunitReporter(files.junit)] : []),
    ...(files.html ? [new HtmlReporter(files.html)] : []),
    ...(files.markdown ? [new MarkdownSummaryReporter(files.markdown, reports)] : []),
  ];
}

export interface ReportPaths {
  results: string;
  junit?: string;
  html?: string;
  /** The run's summary in Markdown (what `github` appends to the job summary), for other CI systems' summary pages. */
  markdown?: string;
}

/** The report files among `reporters` whose newest write failed, each with why: `cannot write FILE: REASON`. */
export function unwrittenReports(reporters: readonly Reporter[]): string[] {
  return reporters.flatMap((r) => {
    const why = (r as { output?: ReportFile }).output?.unwritten;
    return why ? [why] : [];
  });
}

/** Console reporters: `live` (the live view in a terminal, lines elsewhere), `list` (Playwright's name) or `plain`: one line per step and check. */
const CONSOLE_REPORTERS = ['live', 'list', 'plain'] as const;
/** File reporters: results.json, junit.xml, report.html, and summary.md (only when named). */
const FILE_REPORTERS = ['json', 'junit', 'html', 'markdown'] as const;
const DEFAULT_FILES = ['json', 'junit', 'html'] as const;
/** GitHub Actions annotations and job summary (on by itself where GITHUB_ACTIONS=true). */
const REPORTER_NAMES = [...CONSOLE_REPORTERS, ...FILE_REPORTERS, 'github'] as const;

type ConsoleReporter = (typeof CONSOLE_REPORTERS)[number];
type FileReporter = (typeof FILE_REPORTERS)[number];

/** What a run reports to, from `--reporter` lists and the per-file options. */
export interface ReporterChoice {
  console: 'live' | 'lines';
  /** The files asked for, each with the path given for it (`junit=out/junit.xml`) or none (then it goes into the run's directory). */
  files: Partial<Record<FileReporter, string | null>>;
  github: boolean;
}

const DEFAULT_NAME: Record<FileReporter, string> = { json: 'results.json', junit: 'junit.xml', html: 'report.html', markdown: 'summary.md' };

/**
 * Reads reporter lists the way Playwright and newman take them: `list,junit,html`, repeatable, a
 * file reporter with its own path as `junit=out/junit.xml`; `paths` are the per-file options
 * (`--junit FILE`), which also choose their reporter. A list that names no file reporter keeps
 * results.json, junit.xml and report.html; one that names some writes those, and results.json always (it is the run's
 * record: `xfed compare`, `xfed clean` and every other report are made from it). Throws a one-line
 * message for a name that is not a reporter, with `suggest` naming the closest.
 */
export function parseReporters(
  specs: readonly string[],
  paths: Partial<Record<FileReporter, string>>,
  suggest: (word: string, names: readonly string[]) => string,
): ReporterChoice {
  let console: ConsoleReporter | undefined;
  const files: ReporterChoice['files'] = {};
  let github = false;
  for (const item of specs.flatMap((s) => s.split(',')).map((s) => s.trim())) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    const file = eq < 0 ? null : item.slice(eq + 1).trim();
    if (isOneOf(name, FILE_REPORTERS)) {
      if (file === '') throw new XfedError(`reporter '${name}=' names no file (write ${name}=PATH, or ${name} alone for ${DEFAULT_NAME[name]} in --out)`);
      files[name] = file ?? files[name] ?? null;
      continue;
    }
    if (file !== null && isOneOf(name, REPORTER_NAMES)) throw new XfedError(`reporter '${name}' writes no file, so it takes no '=${file}'`);
    if (name === 'github') github = true;
    else if (!isOneOf(name, CONSOLE_REPORTERS))
      throw new XfedError(`unknown reporter '${name}'${suggest(name, REPORTER_NAMES)}; reporters: ${REPORTER_NAMES.join(', ')}`);
    else if (console !== undefined && console !== name)
      throw new XfedError(`two console reporters, '${console}' and '${name}': choose one of ${CONSOLE_REPORTERS.join(', ')}`);
    else console = name;
  }
  for (const name of FILE_REPORTERS) {
    const file = paths[name];
    if (file !== undefined) files[name] = file;
  }
  if (Object.keys(files).length === 0) for (const name of DEFAULT_FILES) files[name] = null;
  files.json ??= null;
  return { console: (console ?? 'live') === 'live' ? 'live' : 'lines', files, github };
}

const isOneOf = <T extends string>(s: string, names: readonly T[]): s is T => (names as readonly string[]).includes(s);

/**
 * Where one suite's files go: a file given a path goes there, the others into `dir`. When a run has
 * several suites, each suite's files go into a folder of its own beside the given path
 * (`out/junit.xml` becomes `out/SUITE/junit.xml`), as they do under --out.
 */
export function reportPaths(choice: ReporterChoice, dir: string, suite?: string): ReportPaths {
  const at = (name: FileReporter): string | undefined => {
    const given = choice.files[name];
    if (given === undefined) return undefined;
    if (given === null) return path.join(dir, DEFAULT_NAME[name]);
    return suite === undefined ? given : path.join(path.dirname(given), suite, path.basename(given));
  };
  return { results: at('json')!, junit: at('junit'), html: at('html'), markdown: at('markdown') };
}
