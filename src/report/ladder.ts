import { LANES, type FlowEvent } from '../targets/flow.js';
import { escapeHtml } from './escape.js';
import { LANE_TITLES, eventOffsets, formatMs, formatOffset, isoTime } from './format.js';

/**
 * The ladder diagram of one check's evidence, as a CSS grid: column 1 holds the time offset,
 * columns 2-7 the six lanes. Each event is a `<details>` row whose summary draws the arrow and
 * whose body is the wire text, so long ladders stay one line per message until opened.
 */
export const LADDER_CSS = `
.ladder{border:1px solid var(--line);border-radius:6px;max-height:80vh;overflow:auto;margin:.4em 0 1em;background:var(--bg)}
.lh,.ev>summary{display:grid;grid-template-columns:6.5em repeat(6,minmax(6.5em,1fr));min-width:48em}
.lh{position:sticky;top:0;z-index:2;background:var(--soft);border-bottom:1px solid var(--line);font-size:12px;font-weight:600;text-align:center;padding:.3em 0}
.ev>summary{cursor:pointer;list-style:none;min-height:1.9em}
.ev>summary::-webkit-details-marker{display:none}
.ev>summary:hover{background:var(--soft)}
.ev>summary>*{grid-row:1}
.lane{background:linear-gradient(var(--line),var(--line)) center/1px 100% no-repeat}
.off{grid-column:1;align-self:center;padding-left:.5em;font:11px ui-monospace,Menlo,Consolas,monospace;color:var(--muted)}
.ev.xmpp{color:var(--xmpp)}.ev.sip{color:var(--sip)}.ev.dns{color:var(--dns)}.ev.control{color:var(--control)}
.arrow{position:relative;align-self:end;height:1.5em;margin-bottom:.5em;border-bottom:2px solid currentColor;font-size:12px;min-width:0}
.arrow>span{position:absolute;bottom:1px;left:50%;transform:translateX(-50%);max-width:26em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding:0 .5em}
.arrow.la>span{left:0;transform:none}.arrow.ra>span{left:auto;right:0;transform:none}
.arrow::after{content:"";position:absolute;bottom:-5px;border-top:4px solid transparent;border-bottom:4px solid transparent}
.arrow.r::after{right:-1px;border-left:8px solid currentColor}
.arrow.l::after{left:-1px;border-right:8px solid currentColor}
.note{align-self:center;justify-self:center;z-index:1;max-width:24em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:12px;border:1px solid currentColor;border-radius:4px;padding:0 .5em;background:var(--bg)}
.note.c1{justify-self:start}.note.c6{justify-self:end}
.ev[open]>summary{background:var(--soft)}
.wire{margin:0;padding:.5em 1em .8em 7em;white-space:pre-wrap;overflow-wrap:anywhere;color:var(--fg);background:var(--soft);border-bottom:1px solid var(--line)}
.wire-head{display:block;color:var(--muted);margin-bottom:.3em}
.ladder .none{padding:.6em 1em;margin:0;color:var(--muted)}
.legend span{margin-right:1em;font-size:12px}.legend span::before{content:"";display:inline-block;width:1.5em;height:2px;margin-right:.3em;vertical-align:middle;background:currentColor}
${LANES.map((_, i) => `.c${i + 1}{grid-column-start:${i + 2}}`).join('')}
${LANES.map((_, i) => `.w${i + 1}{grid-column-end:span ${i + 1}}`).join('')}
${LANES.slice(1)
  .map((_, i) => `.w${i + 2}.arrow{margin-inline:${(50 / (i + 2)).toFixed(3)}%}`)
  .join('')}
`;

const PROTOCOLS = ['xmpp', 'sip', 'dns', 'control'] as const;

export function ladderLegend(target: 'sim' | 'gateway' = 'sim'): string {
  // Against a real Edge, what happens between the Edge and an SfB user is inside the lab.
  const unseen =
    target === 'gateway' ? '<span class="muted">real Edge: its gateway and SIP pool hops are not observed; SfB user = the users xfed drives</span>' : '';
  return `<p class="legend">${PROTOCOLS.map((p) => `<span class="ev ${p}">${p.toUpperCase()}</span>`).join('')}<span class="muted">click a message to see it on the wire</span>${unseen}</p>`;
}

export function renderLadder(evidence: readonly FlowEvent[]): string {
  const head = `<div class="lh"><span>+ms</span>${LANES.map((l) => `<span>${escapeHtml(LANE_TITLES[l])}</span>`).join('')}</div>`;
  if (evidence.length === 0) return `<div class="ladder">${head}<p class="none">No messages recorded for this check.</p></div>`;
  const offsets = eventOffsets(evidence);
  return `<div class="ladder">${head}${evidence.map((e, i) => row(e, offsets[i] ?? 0)).join('')}</div>`;
}

function row(e: FlowEvent, offset: number): string {
  const from = LANES.indexOf(e.from);
  const to = LANES.indexOf(e.to);
  const lanes = LANES.map((_, i) => `<span class="lane c${i + 1}"></span>`).join('');
  const tip = escapeHtml(`${e.actor ? `${e.actor}: ` : ''}${e.label} (${e.from} -> ${e.to}, ${formatMs(offset)})`);
  const label = escapeHtml(e.label);
  let mark: string;
  if (from < 0 || to < 0 || from === to) {
    // A note on one lane (or an unknown lane, drawn as a note on the first one).
    mark = `<span class="note c${Math.max(from, 0) + 1}" title="${tip}">${label}</span>`;
  } else {
    const start = Math.min(from, to);
    const span = Math.abs(to - from) + 1;
    // Labels may be wider than a one-lane arrow; at the ladder's edges they grow inwards.
    const align = start === 0 ? ' la' : start + span === LANES.length ? ' ra' : '';
    mark = `<span class="arrow ${to > from ? 'r' : 'l'}${align} c${start + 1} w${span}" title="${tip}"><span>${label}</span></span>`;
  }
  const head = `<span class="wire-head">${escapeHtml(`${e.protocol.toUpperCase()}  ${LANE_TITLES[e.from] ?? e.from} -> ${LANE_TITLES[e.to] ?? e.to}${e.actor ? `  (${e.actor})` : ''}  ${isoTime(e.at)}`)}</span>`;
  return (
    `<details class="ev ${escapeHtml(e.protocol)}"><summary><span class="off">${escapeHtml(formatOffset(offset))}</span>${lanes}${mark}</summary>` +
    `<pre class="wire">${head}${escapeHtml(e.wire)}</pre></details>`
  );
}
