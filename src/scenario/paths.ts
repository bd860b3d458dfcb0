import type { PathKey } from './positions.js';

/** Reads plain parsed data along a path; undefined where it stops. */
export function get(data: unknown, path: readonly PathKey[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PathKey, unknown>)[seg];
  }
  return v;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export const quote = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

/** What a value is, in YAML words: `a string`, `a list`, `42`, `true`, `nothing` (an empty value). */
export function kindOf(v: unknown): string {
  if (v === undefined || v === null) return 'nothing';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  return 'a mapping';
}

const name = (v: unknown, key: string): string | undefined => {
  const n = isRecord(v) ? v[key] : undefined;
  return typeof n === 'string' ? `'${n}'` : undefined;
};

/**
 * Names the thing at a path the way a reader finds it in the file: `check 'im-erin'`,
 * `step 2 (move-user) of phase 'cutover'`, `SfB user 'erin'`, `partner.s2s`, `the top level`.
 */
export function describePath(data: unknown, path: readonly PathKey[]): string {
  let entity: string | undefined;
  let dotted = '';
  let phase = '';
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const parentKey = path[i - 1];
    const here = get(data, path.slice(0, i + 1));
    if (typeof seg === 'number') {
      if (parentKey === 'phases') {
        phase = name(here, 'name') ?? String(seg + 1);
        entity = `phase ${phase}`;
      } else if (parentKey === 'steps') {
        const action = isRecord(here) && typeof here.action === 'string' ? ` (${here.action})` : '';
        entity = `step ${seg + 1}${action} of phase ${phase}`;
      } else if (parentKey === 'checks') {
        entity = `check ${name(here, 'id') ?? `${seg + 1} of phase ${phase}`}`;
      } else if (parentKey === 'users' && path[i - 2] === 'sim') {
        entity = `SfB user ${name(here, 'name') ?? seg + 1}`;
      } else {
        dotted += ` item ${seg + 1}`;
        continue;
      }
      dotted = '';
    } else {
      dotted = dotted ? `${dotted}.${seg}` : seg;
    }
  }
  if (entity) return dotted ? `${dotted} of ${entity}` : entity;
  return dotted || 'the top level';
}

/** `in check 'im-erin'`, or `at the top level`. */
export const where = (data: unknown, path: readonly PathKey[]): string => (path.length === 0 ? 'at the top level' : `in ${describePath(data, path)}`);

/** The field a value problem is about, as a message prefix: `pool: `, `domains item 2: `. */
export function fieldPrefix(path: readonly PathKey[]): string {
  const last = path[path.length - 1];
  if (last === undefined) return '';
  if (typeof last === 'string') return `${last}: `;
  const key = path[path.length - 2];
  return typeof key === 'string' ? `${key} item ${last + 1}: ` : `item ${last + 1}: `;
}
