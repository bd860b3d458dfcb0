import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { AREAS, BEHAVIOURS, type Behaviour } from '../../../src/sfb/behaviours/index.js';
import { BehaviourLog } from '../../../src/sfb/behaviours/log.js';
import { renderCatalogue } from '../../../src/sfb/behaviours/render.js';

const rows = Object.entries(BEHAVIOURS) as Array<[string, Behaviour]>;

describe('the behaviour catalogue', () => {
  it('docs/sfb-behaviours.md is the catalogue as the code has it (npm run docs:behaviours)', () => {
    expect(readFileSync('docs/sfb-behaviours.md', 'utf8')).toBe(renderCatalogue());
  });

  it.each(rows)('%s names a test that exists', (_id, row) => {
    const [file, name] = row.provedBy.split(' › ');
    expect(file && name).toBeTruthy();
    expect(existsSync(file!)).toBe(true);
    expect(readFileSync(file!, 'utf8')).toContain(name!);
  });

  it('every id is unique across the areas and names its area', () => {
    const ids = AREAS.flatMap((a) => Object.keys(a.rows));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+\.[a-z0-9-]+$/);
  });

  it('an xfed choice gives its reason, a Microsoft source its page', () => {
    for (const [, row] of rows)
      for (const s of row.sources) {
        if (s.kind === 'xfed') expect(s.reason.length).toBeGreaterThan(10);
      }
  });
});

describe('BehaviourLog', () => {
  it('gives each behaviour cited since a mark once, in the order first cited', () => {
    const log = new BehaviourLog();
    const ids = Object.keys(BEHAVIOURS) as Array<keyof typeof BEHAVIOURS>;
    if (ids.length < 2) return;
    log.cite(ids[0]!);
    const mark = log.mark();
    log.cite(ids[1]!);
    log.cite(ids[0]!);
    log.cite(ids[1]!);
    expect(log.since(mark)).toEqual([ids[1], ids[0]]);
    expect(log.since(log.mark())).toEqual([]);
  });

  it('adds the lasting changes in effect to what a check rests on, not to what a step applied', () => {
    const log = new BehaviourLog();
    let lasting: Array<keyof typeof BEHAVIOURS> = [];
    log.lastingFrom(() => lasting);
    const mark = log.mark();
    log.cite('edge.xmpp-federation-route');
    lasting = ['edge.xmpp-federation-route', 'migration.cms-moved'];
    expect(log.citedSince(mark)).toEqual(['edge.xmpp-federation-route']);
    const check = log.mark();
    log.cite('im.detached-503');
    expect(log.since(check)).toEqual(['im.detached-503', 'edge.xmpp-federation-route', 'migration.cms-moved']);
    lasting = [];
    expect(log.since(check)).toEqual(['im.detached-503']);
  });
});
