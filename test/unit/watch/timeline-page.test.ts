import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { TimelineModel, type TimelineData } from '../../../src/watch/timeline/model.js';
import { TIMELINE_SCRIPT } from '../../../src/watch/timeline/client.js';
import { renderTimelinePage } from '../../../src/watch/timeline/page.js';
import { ScriptedWatch, lostImEvidence } from '../../helpers/watch-records.js';

const T0 = Date.parse('2026-11-30T01:00:00.000Z');
const at = (s: number) => T0 + s * 1000;

// What a suite author or an operator could type, and what a peer could send back.
const HOSTILE = '</script><script>alert(1)</script><!--<img src=x onerror=alert(2)>&amp;\u2028\u2029"\'';

function hostileWatch(): { model: TimelineModel; data: TimelineData } {
  const w = new ScriptedWatch([{ id: 'im', kind: 'im', title: `alice IMs erin ${HOSTILE}`, phase: 'p', expected: 'pass' }], 1000).start(at(0));
  w.roundAt(at(1), {});
  w.mark(at(2), `moved batch 1 ${HOSTILE}`);
  w.roundAt(at(3), { im: { state: 'unmet', actual: `got ${HOSTILE}`, evidence: lostImEvidence(at(3), [`message ${HOSTILE}`]) } });
  const model = new TimelineModel();
  for (const r of w.records) model.ingest(r);
  return { model, data: model.toJSON() };
}

/** The JSON islands of a page, by id, parsed as the browser would read their text. */
function islands(html: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of html.matchAll(/<script type="application\/json" id="([^"]+)">([\s\S]*?)<\/script>/g)) out[m[1]!] = JSON.parse(m[2]!);
  return out;
}

describe('renderTimelinePage', () => {
  const { model, data } = hostileWatch();
  const ladders = model.ladders();
  const html = renderTimelinePage(data, { ladders });

  it('carries the data and the ladders in JSON islands that no text from the log can end or comment out', () => {
    // One closing tag per island and one for the page script: none came from the data.
    expect(html.match(/<\/script>/g)).toHaveLength(Object.keys(islands(html)).length + 1);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/[\u2028\u2029]/);
    const read = islands(html);
    expect(read['xfed-data']).toEqual(JSON.parse(JSON.stringify(data)));
    expect(read['xfed-ladders']).toEqual(ladders);
    expect(read['xfed-config']).toEqual({ live: null });
    // The texts arrive whole, for the script to set as text.
    expect((read['xfed-data'] as TimelineData).marks[0]!.text).toBe(`moved batch 1 ${HOSTILE}`);
  });

  it('escapes the ladder it embeds, which the page inserts as markup', () => {
    const ladder = Object.values(ladders)[0]!;
    expect(ladder).toContain('message &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--&lt;img');
    expect(ladder).not.toMatch(/<(script|img)/);
  });

  it('is self-contained: a CSP admits only its own style and script by hash, and the static page fetches nothing', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'none'");
    const script = /<script>([\s\S]*)<\/script>\n<\/body>/.exec(html)![1]!;
    expect(script).toBe(TIMELINE_SCRIPT);
    expect(csp).toContain(`'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('id="mark-form"');
    // The title of the document comes from the suite, escaped.
    expect(html).toContain('<title>xfed watch: cutover night</title>');
  });

  it('makes the live page poll its own origin, with the mark form and no embedded ladders', () => {
    const live = renderTimelinePage(data, { live: { dataUrl: '/timeline.json', evidenceUrl: '/evidence', markUrl: '/marks' }, ladders });
    expect(live).toContain("connect-src 'self'");
    expect(live).toContain('id="mark-form"');
    expect(live).toContain('id="live-status"');
    const read = islands(live);
    expect(read['xfed-config']).toEqual({ live: { dataUrl: '/timeline.json', evidenceUrl: '/evidence', markUrl: '/marks', pollMs: 2000 } });
    expect(read['xfed-ladders']).toBeUndefined();
  });

  it('has a script that parses (it runs in the browser test)', () => {
    expect(() => new Function(TIMELINE_SCRIPT)).not.toThrow();
  });
});
