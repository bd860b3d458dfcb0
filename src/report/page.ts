import { createHash } from 'node:crypto';
import { escapeHtml } from './escape.js';

/** Colours and typography shared by the run report and the comparison report. */
const BASE_CSS = `
:root{--met:#1a7f37;--unmet:#cf222e;--error:#6e7781;--not-possible:#0969da;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;
--xmpp:#0969da;--sip:#8250df;--dns:#1b7c83;--control:#6e7781}
*{box-sizing:border-box}
body{margin:0 auto;max-width:80em;padding:1em 1.5em 3em;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.6em;margin:.3em 0}h2{font-size:1.3em;margin:1.4em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1.05em;margin:1em 0 .3em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:.25em .6em;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
.muted{color:var(--muted)}
.met{color:var(--met)}.unmet{color:var(--unmet)}.error{color:var(--error)}.not-possible{color:var(--not-possible)}
.badge{display:inline-block;border-radius:1em;padding:0 .6em;font-size:12px;font-weight:600;color:#fff;background:var(--error)}
.badge.met,.badge.ok,.badge.complete{background:var(--met)}.badge.unmet,.badge.failed,.badge.interrupted{background:var(--unmet)}.badge.not-possible{background:var(--not-possible)}
.badge.assumed{background:#9a6700}.badge.skipped{background:none;color:var(--muted);border:1px dashed var(--line)}
.banner{border:2px solid var(--unmet);background:#ffebe9;color:#82071e;padding:.7em 1em;border-radius:6px;margin:1em 0;font-weight:600}
.facts{display:flex;flex-wrap:wrap;gap:.3em 1.5em;margin:.5em 0}.facts div{display:flex;gap:.4em}.facts dt{color:var(--muted)}.facts dd{margin:0}
`;

/**
 * One self-contained HTML document: no external URL anywhere, and a Content-Security-Policy that
 * lets only this page's own style and script run (by hash), so markup that slipped into the data
 * could neither execute nor load anything.
 */
export function htmlPage(title: string, body: string, css: string, script = '', fetchFromOwnOrigin = false): string {
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
  const style = BASE_CSS + css;
  const csp = [
    "default-src 'none'",
    `style-src ${hash(style)}`,
    `script-src ${script ? hash(script) : "'none'"}`,
    // A live page (the watch's timeline) polls its server for data.
    `connect-src ${fetchFromOwnOrigin ? "'self'" : "'none'"}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Built from constants and base64 hashes only: nothing in it needs escaping.
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    body,
    script ? `<script>${script}</script>` : '',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
