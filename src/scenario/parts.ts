import { isAlias, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { isRecord } from './paths.js';
import { offsetIn, positionOf, type Locate, type PathKey } from './positions.js';
import type { Substitution } from './variables.js';

/*
 * yaml holds a whole file three times while it parses: the text, its concrete syntax tree (about
 * 55 bytes per byte of suite) and the Document (about 28 more), so a 5 MB suite peaked at 540 MB.
 * A large suite is parsed instead in parts: its long block lists (the phases, a phase's checks or
 * steps) are cut out, the rest is parsed as it stands, and each list is parsed a few items at a
 * time, an item too long for one part being cut the same way. Only the plain data is kept;
 * positions come from parsing again the one part a problem is in. Whatever this cannot cut for
 * certain (flow style, anchors and aliases that may cross parts, several documents, tabs, any
 * syntax error) is parsed whole, so the messages and positions are the same either way.
 */

/** Below this size a suite is parsed whole: it costs little, and nothing changes for ordinary suites. */
const PARTS_FROM_BYTES = 256 * 1024;
/** About how much of a list one part holds; a shorter list stays with the text around it. */
const PART_BYTES = 16 * 1024;

/** A stretch of the file parsed without its long lists: the whole file, or one long list item. */
interface Region {
  start: number;
  end: number;
  /** A list item: its text parses as a list of one. */
  item: boolean;
  cuts: Cut[];
}

/** A block list cut out of a region: the key it is the value of, where it lies, its parts. */
interface Cut {
  key: string;
  from: number;
  to: number;
  parts: Part[];
}

/** A few consecutive items of a list (`first`, `count`), or one long item cut further (`region`). */
interface Part {
  start: number;
  end: number;
  first: number;
  count: number;
  region?: Region;
}

export interface ParsedInParts {
  data: Record<string, unknown>;
  locate: Locate;
}

/**
 * The data and a locator of a large suite parsed in parts, or undefined where it must be parsed
 * whole. `substitution` fills each part's `${NAME}` as it is parsed, at positions in the file.
 */
export function parseInParts(text: string, sizes = { from: PARTS_FROM_BYTES, part: PART_BYTES }, substitution?: Substitution): ParsedInParts | undefined {
  if (text.length < sizes.from || /^(---|\.\.\.|%)/m.test(text)) return undefined;
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const root = regionAt(text, lineStarts, { start: 0, end: text.length, item: false, keyIndent: 0 }, sizes.part);
  if (!root || root.cuts.length === 0) return undefined;
  const data = valueOf(text, root, substitution);
  if (!isRecord(data)) return undefined;

  const lines = new LineCounter();
  for (const start of lineStarts) lines.addNewLine(start);
  let cached: { at: number; doc: Document } | undefined;
  const parsed = (start: number, source: () => string): Document => {
    if (cached?.at !== start) cached = { at: start, doc: parseDocument(source()) };
    return cached.doc;
  };
  const offset = (region: Region, path: readonly PathKey[], which: 'key' | 'value' | undefined): number => {
    const [key, index] = path;
    const cut = typeof key === 'string' && typeof index === 'number' ? region.cuts.find((c) => c.key === key) : undefined;
    const part = cut?.parts.find((p) => (index as number) >= p.first && (index as number) < p.first + p.count);
    if (part?.region) return offset(part.region, path.slice(2), which);
    if (part)
      return (
        part.start +
        offsetIn(
          parsed(part.start, () => text.slice(part.start, part.end)),
          [(index as number) - part.first, ...path.slice(2)],
          which,
        )
      );
    const inSkeleton = offsetIn(
      parsed(region.start, () => skeletonOf(text, region)),
      region.item ? [0, ...path] : path,
      which,
    );
    return outOfSkeleton(region, inSkeleton);
  };
  return { data, locate: (path, which) => positionOf(lines, offset(root, path, which)) };
}

/** The text of a region without its cuts. */
function skeletonOf(text: string, region: Region): string {
  let at = region.start;
  let out = '';
  for (const cut of region.cuts) {
    out += text.slice(at, cut.from);
    at = cut.to;
  }
  return out + text.slice(at, region.end);
}

/** The file offset of an offset in a region's skeleton. */
function outOfSkeleton(region: Region, offset: number): number {
  let global = region.start + offset;
  for (const cut of region.cuts) if (global >= cut.from) global += cut.to - cut.from;
  return global;
}

/** The plain data of a region, its cut lists put back; undefined where any part is not plainly parsed. */
function valueOf(text: string, region: Region, substitution: Substitution | undefined): unknown {
  let value = parseClean(skeletonOf(text, region), substitution, (o) => outOfSkeleton(region, o));
  if (region.item) value = Array.isArray(value) && value.length === 1 ? value[0] : undefined;
  if (!isRecord(value)) return undefined;
  for (const cut of region.cuts) {
    if (value[cut.key] !== null) return undefined;
    const items: unknown[] = [];
    for (const part of cut.parts) {
      const got = part.region ? [valueOf(text, part.region, substitution)] : parseClean(text.slice(part.start, part.end), substitution, (o) => part.start + o);
      if (!Array.isArray(got) || got.length !== part.count || got.includes(undefined)) return undefined;
      items.push(...(got as unknown[]));
    }
    value[cut.key] = items;
  }
  return value;
}

/** The data of a document without errors, warnings, anchors or aliases (which could refer across parts); undefined otherwise. */
function parseClean(source: string, substitution: Substitution | undefined, toFile: (offset: number) => number): unknown {
  const doc = parseDocument(source, { prettyErrors: false });
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  let shared = false;
  visit(doc, {
    Node(_, n) {
      if (!isAlias(n) && n.anchor === undefined) return undefined;
      shared = true;
      return visit.BREAK;
    },
  });
  if (shared) return undefined;
  if (substitution && source.includes('${')) substitution.apply(doc, source, toFile);
  return doc.toJS();
}

const indentOf = (line: string): number => {
  let n = 0;
  while (line[n] === ' ') n++;
  return n;
};
const isBlank = (line: string, indent: number): boolean => indent === line.length || line[indent] === '#' || line[indent] === '\r';
const isItem = (line: string, indent: number): boolean =>
  line[indent] === '-' && (line[indent + 1] === ' ' || line[indent + 1] === '\r' || indent + 1 === line.length);

/**
 * The block lists of a mapping whose keys start at `keyIndent` (the file's, or a list item's) that
 * are long enough to cut, found line by line: a `key:` line with nothing after it, then `- ` items
 * at one indentation (deeper lines, blank lines and comments belong to the item before).
 * Undefined where the text is not that plain (a tab before a key or an item).
 */
function regionAt(
  text: string,
  lineStarts: readonly number[],
  at: { start: number; end: number; item: boolean; keyIndent: number },
  partBytes: number,
): Region | undefined {
  const region: Region = { start: at.start, end: at.end, item: at.item, cuts: [] };
  const lineOf = (i: number) => text.slice(lineStarts[i]!, (lineStarts[i + 1] ?? text.length + 1) - 1);
  let i = lowerBound(lineStarts, at.start) + (at.item ? 1 : 0);
  const last = lowerBound(lineStarts, at.end);
  const keyLine = new RegExp(`^ {${at.keyIndent}}([A-Za-z_][\\w-]*):[ \\t]*(#.*)?\\r?$`);
  while (i < last) {
    const line = lineOf(i);
    const indent = indentOf(line);
    if (line[indent] === '\t') return undefined;
    const key = indent === at.keyIndent ? keyLine.exec(line)?.[1] : undefined;
    i++;
    if (key === undefined) continue;
    // The list under it: its first item fixes the indentation of the others.
    let j = i;
    while (j < last && isBlank(lineOf(j), indentOf(lineOf(j)))) j++;
    const itemIndent = j < last ? indentOf(lineOf(j)) : -1;
    if (itemIndent < at.keyIndent || !isItem(lineOf(j), itemIndent)) continue;
    const items: number[] = [];
    for (; j < last; j++) {
      const l = lineOf(j);
      const n = indentOf(l);
      if (l[n] === '\t') return undefined;
      if (isBlank(l, n) || n > itemIndent) continue;
      if (n < itemIndent || !isItem(l, n)) break;
      items.push(lineStarts[j]!);
    }
    const to = j < last ? lineStarts[j]! : at.end;
    i = j;
    if (to - items[0]! < partBytes) continue;
    const parts = partsOf(text, lineStarts, items, to, itemIndent, partBytes);
    if (!parts) return undefined;
    region.cuts.push({ key, from: items[0]!, to, parts });
  }
  return region;
}

/** A list's items in parts of about `partBytes`; an item longer than that is cut further where it can be. */
function partsOf(text: string, lineStarts: readonly number[], items: number[], to: number, itemIndent: number, partBytes: number): Part[] | undefined {
  const parts: Part[] = [];
  for (let i = 0; i < items.length;) {
    const start = items[i]!;
    let j = i + 1;
    while (j < items.length && items[j]! - start < partBytes) j++;
    const end = j < items.length ? items[j]! : to;
    if (j === i + 1 && end - start >= partBytes) {
      // One long item: its mapping's keys start after the dash and its spaces, on its first line.
      const afterDash = indentOf(text.slice(start + itemIndent + 1, start + itemIndent + 64));
      const first = text.slice(start + itemIndent + 1 + afterDash, text.indexOf('\n', start));
      const region = /^[A-Za-z_][\w-]*:( |\r?$)/.test(first)
        ? regionAt(text, lineStarts, { start, end, item: true, keyIndent: itemIndent + 1 + afterDash }, partBytes)
        : undefined;
      if (region === undefined && /^[A-Za-z_][\w-]*:( |\r?$)/.test(first)) return undefined;
      parts.push({ start, end, first: i, count: 1, ...(region && region.cuts.length > 0 ? { region } : {}) });
    } else {
      parts.push({ start, end, first: i, count: j - i });
    }
    i = j;
  }
  return parts;
}

/** The index of the first element not below `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let [low, high] = [0, sorted.length];
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
