import { escapeHtml } from '../../report/escape.js';
import { LADDER_CSS, ladderLegend } from '../../report/ladder.js';
import { htmlPage } from '../../report/page.js';
import { TIMELINE_SCRIPT } from './client.js';
import type { TimelineData } from './model.js';

export interface TimelinePageOptions {
  /**
   * The live page of a running watch: it fetches `dataUrl` (TimelineData as JSON) every `pollMs`
   * (2000) and redraws, fetches a ladder from `evidenceUrl?id=...`, and POSTs `{"text": ...}` to
   * `markUrl` to add a mark. The URLs are of the page's own origin.
   */
  live?: { dataUrl: string; evidenceUrl: string; markUrl: string; pollMs?: number };
  /** The ladders of the static page, by outage evidence id (`TimelineModel.ladders()`). */
  ladders?: Record<string, string>;
}

const CSS = `
:root{color-scheme:light dark;--gap:#8c959f}
@media (prefers-color-scheme:dark){:root{--met:#3fb950;--unmet:#f85149;--error:#9198a1;--not-possible:#4493f8;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--bg:#0d1117;--soft:#151b23;
--xmpp:#4493f8;--sip:#ab7df8;--dns:#39c5cf;--control:#9198a1;--gap:#656c76}.banner{background:#3c1618;color:#ffdcd7}}
body{max-width:none}
header .badge{vertical-align:middle}
#live-status{font-size:12px;color:var(--muted);margin:0}#live-status.live::before{content:"";display:inline-block;width:.6em;height:.6em;border-radius:50%;background:var(--met);margin-right:.4em}
#live-status.failed{color:var(--unmet)}#live-status.failed::before{background:var(--unmet)}
#mark-form{display:flex;gap:.5em;align-items:center;margin:.5em 0;font-size:13px}#mark-form input{width:24em;font:inherit;padding:.2em .4em}
#chart{width:100%;overflow-x:auto;border:1px solid var(--line);border-radius:6px;background:var(--bg);min-height:4em}
#chart svg{display:block;font:12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.legend-timeline{display:flex;flex-wrap:wrap;gap:.3em 1.2em;font-size:12px;color:var(--muted);margin:.4em 0}
.legend-timeline i{display:inline-block;width:1.4em;height:.8em;margin-right:.35em;vertical-align:middle;border-radius:2px}
.k-met{background:var(--met)}.k-unmet{background:var(--unmet)}.k-error{background:var(--error)}.k-gap{background:repeating-linear-gradient(45deg,var(--soft),var(--soft) 2px,var(--gap) 2px,var(--gap) 3px)}
.k-outage{border:1px solid var(--unmet);background:color-mix(in srgb,var(--unmet) 18%,transparent)}.k-lat{height:2px!important;background:var(--xmpp)}.k-mark{width:2px!important;height:1em!important;background:var(--fg)}
.tick{fill:var(--muted);font-size:11px}.grid{stroke:var(--line);stroke-width:1}
.stripe{fill:var(--soft)}
.lane-label{fill:var(--fg)}.overall .lane-label{font-weight:600}.lane-sub{fill:var(--muted);font-size:11px}
.s-met{fill:var(--met)}.s-unmet{fill:var(--unmet)}.s-error{fill:var(--error)}.span.mixed{opacity:.85}
.outage{fill:var(--unmet);fill-opacity:.14;stroke:var(--unmet);stroke-width:1;cursor:pointer}
.outage.open{stroke-dasharray:4 2}.outage.cluster{fill-opacity:.08;stroke-dasharray:1 2}
.outage:hover,.outage:focus{fill-opacity:.3;outline:none;stroke-width:2}
.gap{stroke:var(--gap);stroke-dasharray:2 2}.gap-bg{fill:var(--bg)}.gap-line{stroke:var(--gap);stroke-width:1.5}
.lat-base{stroke:var(--line)}.lat-area{fill:var(--xmpp);fill-opacity:.18;stroke:none}.lat-line{fill:none;stroke:var(--xmpp);stroke-width:1.3}
.lat-scale{fill:var(--muted);font-size:10px}
.mark line{stroke:var(--fg);stroke-width:1.2;stroke-dasharray:5 3}.mark-label{fill:var(--fg);font-size:11px;font-weight:600}
.cursor{stroke:var(--muted);stroke-width:1;pointer-events:none}
#tip{position:absolute;z-index:5;pointer-events:none;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:6px;padding:.4em .6em;font-size:12px;box-shadow:0 2px 8px rgba(0,0,0,.2);max-width:32em}
#tip strong{display:block;margin-top:.2em}
#outage{border:2px solid var(--unmet);border-radius:6px;padding:.2em 1em 1em;margin:1em 0}
#outage h2{border:none;display:flex;justify-content:space-between;align-items:center}
#outage-facts th{width:8em}#outage-facts td{white-space:pre-wrap;overflow-wrap:anywhere}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.actual{max-width:40em;overflow-wrap:anywhere}
tr.overall td{font-weight:600}
button{font:inherit;font-size:12px;cursor:pointer}
details.log{margin:.4em 0}details.log ul{margin:.3em 0;padding-left:1.2em;font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap}
`;

/**
 * The timeline of a watch as one self-contained HTML document (inline style and script, no
 * external request, works from file://). The data goes in as a JSON island and the script draws
 * it, so the live page redraws from fetched data without a reload.
 */
export function renderTimelinePage(data: TimelineData, opts: TimelinePageOptions = {}): string {
  const live = opts.live ? { ...opts.live, pollMs: opts.live.pollMs ?? 2000 } : undefined;
  const suite = data.settings?.suite ?? 'watch';
  const body = [
    '<header>',
    '<h1 id="title"></h1>',
    live ? '<p id="live-status" class="live" role="status" aria-live="polite"></p>' : '',
    '<dl class="facts" id="facts"></dl>',
    '</header>',
    '<noscript><p class="banner">This page draws the timeline with JavaScript: allow it to see the lanes.</p></noscript>',
    live
      ? '<form id="mark-form"><label for="mark-text">Mark the timeline</label><input id="mark-text" name="text" maxlength="500" required placeholder="moved batch 1"><button type="submit">Add mark</button><span id="mark-status" class="muted" role="status"></span></form>'
      : '',
    '<section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2>',
    '<p class="legend-timeline"><span><i class="k-met"></i>met</span><span><i class="k-unmet"></i>unmet</span><span><i class="k-error"></i>error (could not judge)</span>' +
      '<span><i class="k-outage"></i>outage (click or Enter: its message ladder)</span><span><i class="k-gap"></i>not watching</span><span><i class="k-lat"></i>latency (line: average, band: min to max)</span><span><i class="k-mark"></i>mark</span></p>',
    '<div id="chart"></div>',
    '</section>',
    '<section id="outage" hidden aria-labelledby="outage-title"><h2><span id="outage-title" tabindex="-1"></span><button type="button" id="outage-close">close</button></h2>',
    '<table><tbody id="outage-facts"></tbody></table>',
    ladderLegend(data.settings?.target ?? 'sim'),
    '<div id="outage-ladder"></div>',
    '</section>',
    '<section id="availability" aria-labelledby="h-availability"><h2 id="h-availability">Availability</h2>',
    '<table><thead><tr><th>check</th><th>now</th><th>availability</th><th>outages</th><th>down</th><th>longest</th><th>results met / unmet / error</th><th>average latency</th></tr></thead><tbody></tbody></table>',
    '<p class="muted">Availability is the time met over the time met or unmet: error time (xfed could not judge) and time not watched count neither way.</p>',
    '</section>',
    '<section id="outages" aria-labelledby="h-outages"><h2 id="h-outages">Outages</h2>',
    '<table><thead><tr><th>check</th><th>start</th><th>end</th><th>length</th><th>what was seen</th><th></th></tr></thead><tbody></tbody></table>',
    '<p class="muted" id="outages-note"></p>',
    '</section>',
    '<section aria-labelledby="h-log"><h2 id="h-log">Log</h2>',
    ...(
      [
        ['marks', 'Marks'],
        ['facts-changes', 'Edge facts'],
        ['notices', 'Notices'],
        ['hooks', 'Hooks run'],
      ] as const
    ).map(
      ([id, title]) =>
        `<details class="log" id="${id}"${id === 'marks' ? ' open' : ''}><summary>${title} (<span class="count"></span>)</summary><ul></ul></details>`,
    ),
    '</section>',
    '<div id="tip" hidden></div>',
    jsonIsland('xfed-config', { live: live ?? null }),
    opts.ladders && !live ? jsonIsland('xfed-ladders', opts.ladders) : '',
    jsonIsland('xfed-data', data),
  ].join('\n');
  return htmlPage(`xfed watch: ${suite}`, body, LADDER_CSS + CSS, TIMELINE_SCRIPT, live !== undefined);
}

/**
 * JSON inside a data block: every `<`, `>` and `&` as a JSON escape, so no text from the log can
 * end the block (`</script>`) or start a comment (`<!--`) in it; U+2028/2029 likewise.
 */
function jsonIsland(id: string, value: unknown): string {
  const json = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `<script type="application/json" id="${escapeHtml(id)}">${json}</script>`;
}
