import { writeFile } from 'node:fs/promises';
import { compareResults } from '../report/compare.js';
import { readResultsFile } from '../report/read-results.js';
import { renderComparisonHtml } from '../report/compare-html.js';
import { renderComparisonMarkdown, renderComparisonText } from '../report/compare-render.js';
import { COLOR, EXIT } from './output.js';

/** `xfed compare BASE NEW`: exit 1 when anything regressed. */
export async function runCompare(base: string, next: string, opts: { markdown?: string; html?: string }): Promise<number> {
  const comparison = compareResults(await readResultsFile(base), await readResultsFile(next));
  process.stdout.write(`${renderComparisonText(comparison, { color: COLOR })}\n`);
  if (opts.markdown) await writeFile(opts.markdown, renderComparisonMarkdown(comparison));
  if (opts.html) await writeFile(opts.html, renderComparisonHtml(comparison));
  return comparison.hasRegression ? EXIT.unmet : EXIT.ok;
}
