import { behaviourOf, MICROSOFT_PAGES, sourceText, type Source } from '../sfb/behaviours/index.js';
import { escapeHtml } from './escape.js';
import { VERDICT_LABEL, formatMs, runStatus, verdictOf } from './format.js';
import { LADDER_CSS, ladderLegend, renderLadder } from './ladder.js';
import { htmlPage } from './page.js';
import type { Reporter } from './reporter.js';
import type { CheckResult, PhaseResult, RunResults, StepResult } from './results.js';
import { ReportFile } from './results-file.js';

/** report.html, written when the run ends (also an interrupted or failed one). */
export class HtmlReporter implements Reporter {
  readonly output: ReportFile;

  constructor(readonly file: string) {
    this.output = new ReportFile(file);
  }

  onEnd(results: RunResults) {
    return this.output.write(renderHtml(results));
  }
}

const CSS = `
.matrix td{border:none;padding:.2em .4em}.matrix th{border:none;background:none;max-width:20em;overflow-wrap:anywhere;padding:.2em .8em .2em 0}
.cells{display:flex;flex-wrap:wrap;gap:4px}
.cell{display:inline-block;min-width:2.2em;padding:.15em .5em;border-radius:4px;color:#fff;text-decoration:none;font:12px ui-monospace,Menlo,Consolas,monospace}
.cell.met{background:var(--met)}.cell.unmet{background:var(--unmet)}.cell.error{background:var(--error)}.cell.not-possible{background:var(--not-possible)}
.cell.skipped{background:none;color:var(--muted);border:1px dashed var(--line)}
.cell:hover,.cell:focus{outline:2px solid var(--fg);outline-offset:1px}
.steps{padding-left:1.5em}.steps li{margin:.2em 0}
.check{color:var(--fg);border-left:4px solid var(--error);padding:.1em 0 .1em 1em;margin:1.2em 0}
.check.met{border-color:var(--met)}.check.unmet{border-color:var(--unmet)}.check.not-possible{border-color:var(--not-possible)}.check.skipped{border-color:var(--line)}
.steps .skipped{color:var(--muted)}
.refs{font-size:12px}.refs ul{display:inline;margin:0;padding:0}.refs li{display:inline}.refs li+li::before{content:' · '}
.rests{font-size:12px;margin:.3em 0}.rests li{margin:.1em 0}.rests .src{color:#666}
.check:target{background:var(--soft)}
.check h3 code{font-size:13px}
.vs th{width:7em}.vs td{white-space:pre-wrap;overflow-wrap:anywhere}
.tools{display:flex;gap:.5em;align-items:center;font-size:12px}
.tools button{font-size:12px}
.top{font-size:12px;margin-left:.8em}
`;

// Opens or closes every message of one ladder; the page works without it.
const SCRIPT =
  "document.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('button[data-wire]');" +
  "if(!b)return;var o=b.getAttribute('data-wire')==='open';" +
  "b.closest('.check').querySelectorAll('details.ev').forEach(function(d){d.open=o;});});";

const MARK = { met: '✓', unmet: '✗', error: '!', 'not-possible': '○', skipped: '-' } as const;

/**
 * The run as one self-contained HTML file: header, verdict matrix (each cell links to its
 * check), then per phase its steps and, per check, expected vs actual and the message ladder.
 */
export function renderHtml(results: RunResults): string {
  const body = [
    banner(results),
    header(results),
    notices(results),
    matrix(results),
    ...results.phases.map((p, i) => phase(p, i, results.phases.length, results.target)),
  ].join('\n');
  return htmlPage(`xfed: ${results.suite.name} (${runStatus(results).text})`, body, LADDER_CSS + CSS, SCRIPT);
}

const checkAnchor = (pi: number, ci: number): string => `c-${pi}-${ci}`;

function banner(r: RunResults): string {
  if (r.status === 'complete') return '';
  const what = {
    running: 'did not finish (the results file was never closed)',
    interrupted: 'was interrupted',
    failed: 'failed',
    killed: 'was killed',
  }[r.status];
  const reason = r.reason ? `: ${escapeHtml(r.reason)}` : '';
  return `<div class="banner" role="alert">This run ${what}${reason}. The checks it did not reach are listed as not run.</div>`;
}

/** What the run said outside its checks (a lab user's session dropped), in order. */
function notices(r: RunResults): string {
  if (!r.notices?.length) return '';
  return `<ul class="notices">${r.notices.map((n) => `<li><time>${escapeHtml(n.at)}</time> ${escapeHtml(n.text)}</li>`).join('')}</ul>`;
}

function header(r: RunResults): string {
  const facts: [string, string][] = [
    ['suite file', r.suite.file],
    ['target', r.target],
    ['runtime', r.runtime],
    ['started', r.startedAt],
    ['finished', r.finishedAt ?? '-'],
    ['duration', formatMs(r.durationMs)],
    ['setup', formatMs(r.setupMs)],
  ];
  const s = r.summary;
  const status = runStatus(r);
  return [
    '<header>',
    // Green only when nothing failed: a complete run with unmet checks wears the colour of its failures.
    `<h1>${escapeHtml(r.suite.name)} <span class="badge ${status.ok ? 'complete' : 'failed'}">${escapeHtml(status.text)}</span></h1>`,
    r.suite.description ? `<p>${escapeHtml(r.suite.description)}</p>` : '',
    `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`,
    `<p><strong class="met">${s.met} met</strong>, <strong class="unmet">${s.unmet} unmet</strong>${harnessCount(r) ? ` (<strong class="error">${harnessCount(r)} of them harness failures</strong>: xfed broke, not the system under test)` : ''}${s.notPossible ? `, <strong class="not-possible">${s.notPossible} not possible</strong>` : ''} of ${s.checks} checks in ${s.phases} phases${s.skipped ? `; <strong class="muted">${s.skipped} not run</strong>` : ''}</p>`,
    '</header>',
  ].join('\n');
}

/** Unmet checks the harness could not run or judge (counted from the checks: older files have no summary field). */
const harnessCount = (r: RunResults): number => r.phases.flatMap((p) => p.checks).filter((c) => verdictOf(c) === 'error').length;

function matrix(r: RunResults): string {
  const rows = r.phases.map((p, pi) => {
    const met = p.checks.filter((c) => c.met).length;
    const ran = p.checks.filter((c) => c.skipped === undefined).length;
    const cells = p.checks
      .map((c, ci) => {
        const v = verdictOf(c);
        const tip = `${c.id}: ${c.title} (${VERDICT_LABEL[v]}${v === 'met' ? '' : v === 'skipped' ? `: ${c.skipped}` : `; expected ${c.expected}, got ${c.actual}`})`;
        return `<a class="cell ${v}" href="#${checkAnchor(pi, ci)}" title="${escapeHtml(tip)}">${MARK[v]} ${escapeHtml(c.id)}</a>`;
      })
      .join('');
    return `<tr><th scope="row"><a href="#p-${pi}">${escapeHtml(p.name)}</a> <span class="muted">${[ran > 0 || p.checks.length === 0 ? `${met}/${ran}` : '', ran < p.checks.length ? `${p.checks.length - ran} not run` : ''].filter(Boolean).join(', ')}</span></th><td><div class="cells">${cells}</div></td></tr>`;
  });
  return `<section id="matrix" class="matrix"><h2>Verdicts</h2><table><tbody>${rows.join('')}</tbody></table></section>`;
}

function phase(p: PhaseResult, pi: number, total: number, target: RunResults['target']): string {
  return [
    `<section class="phase" id="p-${pi}">`,
    `<h2>Phase ${pi + 1} of ${total}: ${escapeHtml(p.name)}</h2>`,
    p.description ? `<p>${escapeHtml(p.description)}</p>` : '',
    p.steps.length > 0 ? `<h3>Steps</h3><ol class="steps">${p.steps.map(step).join('')}</ol>` : '<p class="muted">No steps in this phase.</p>',
    p.checks.length > 0 ? ladderLegend(target) : '<p class="muted">No checks in this phase.</p>',
    ...p.checks.map((c, ci) => check(c, checkAnchor(pi, ci))),
    '</section>',
  ].join('\n');
}

function step(s: StepResult): string {
  if (s.skipped !== undefined) {
    return `<li class="skipped"><span class="badge skipped">not applied</span> <code>${escapeHtml(s.action)}</code> ${escapeHtml(s.description)} <span class="muted">${escapeHtml(s.skipped)}</span></li>`;
  }
  const result = !s.ok
    ? '<span class="badge failed">failed</span>'
    : s.assumedDone
      ? '<span class="badge assumed" title="passed by --assume-done: no operator confirmed it">assumed done</span>'
      : '<span class="badge ok">ok</span>';
  const error = s.error ? ` <span class="unmet">${escapeHtml(s.error)}</span>` : '';
  return `<li>${result} <code>${escapeHtml(s.action)}</code> ${escapeHtml(s.description)} <span class="muted">(${formatMs(s.durationMs)})</span>${error}${behaviourList(s.behaviours ?? [], 'applies')}</li>`;
}

function check(c: CheckResult, anchor: string): string {
  const v = verdictOf(c);
  const meta = [
    c.kind,
    v === 'skipped' ? '' : formatMs(c.durationMs),
    c.latencyMs !== undefined ? `latency ${formatMs(c.latencyMs)}` : '',
    v === 'skipped' ? '' : `${c.evidence.length} messages`,
  ]
    .filter(Boolean)
    .map(escapeHtml)
    .join(' · ');
  const rows: [string, string][] = [
    ['expected', c.expected],
    [v === 'skipped' ? 'not run' : 'actual', v === 'skipped' ? c.skipped! : c.actual],
  ];
  if (c.outcome.text && v !== 'skipped') rows.push(['wire text', c.outcome.text]);
  if (c.diagnosis) rows.push(['diagnosis', c.diagnosis]);
  if (c.error) rows.push(['harness failure', c.error]);
  if (c.notPossible) rows.push(['not possible', c.notPossible]);
  return [
    `<article class="check ${v}" id="${anchor}">`,
    `<h3><span class="${v}">${MARK[v]}</span> <code>${escapeHtml(c.id)}</code> ${escapeHtml(c.title)} <span class="badge ${v}">${VERDICT_LABEL[v]}</span><a class="top" href="#matrix">verdicts</a></h3>`,
    `<p class="muted">${meta}</p>`,
    `<table class="vs"><tbody>${rows.map(([k, val]) => `<tr><th>${k}</th><td>${escapeHtml(val)}</td></tr>`).join('')}</tbody></table>`,
    c.references?.length
      ? `<div class="refs muted">specified in <ul class="refs">${c.references.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul></div>`
      : '',
    behaviourList(c.behaviours ?? [], 'rests on'),
    c.evidence.length > 0
      ? '<p class="tools"><button type="button" data-wire="open">show all wire</button><button type="button" data-wire="close">hide all wire</button></p>'
      : '',
    // A check that did not run has no messages to draw.
    v === 'skipped' ? '' : renderLadder(c.evidence),
    '</article>',
  ].join('\n');
}

/** The catalogue rows (docs/sfb-behaviours.md) a check rests on, or a step applies, with their sources. */
function behaviourList(ids: string[], verb: 'rests on' | 'applies'): string {
  if (ids.length === 0) return '';
  const item = (id: string): string => {
    const b = behaviourOf(id);
    if (!b) return `<li><code>${escapeHtml(id)}</code> <span class="src">(not in this version's catalogue)</span></li>`;
    const sources = b.sources.map(sourceLink).join('; ');
    const partner = b.partnerDependent ? ` <em>Partner-dependent: ${escapeHtml(b.partnerDependent)}</em>` : '';
    return `<li><code>${escapeHtml(id)}</code> ${escapeHtml(b.does)}${partner} <span class="src">${sources}</span></li>`;
  };
  return `<details class="rests"><summary>${verb} ${ids.length} simulated behaviour${ids.length === 1 ? '' : 's'} (docs/sfb-behaviours.md)</summary><ul>${ids.map(item).join('')}</ul></details>`;
}

function sourceLink(s: Source): string {
  if (s.kind === 'microsoft') return `<a href="${escapeHtml(MICROSOFT_PAGES[s.page])}">${escapeHtml(s.page)}</a>`;
  if (s.kind === 'rfc')
    return `<a href="https://www.rfc-editor.org/rfc/rfc${s.rfc}#section-${escapeHtml(s.section.split(' ')[0]!)}">RFC ${s.rfc} §${escapeHtml(s.section)}</a>`;
  return escapeHtml(sourceText(s));
}
