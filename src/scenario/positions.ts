import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** 1-based line and column in a suite file. */
export interface Position {
  line: number;
  col: number;
}

export type PathKey = string | number;

/**
 * Where a problem points: `key` is the key of the entry at the path (an unknown key), `value` its
 * value (a wrong value). A path that does not exist in the file (a missing key) lands on the
 * nearest mapping or list that does.
 */
export type Locate = (path: readonly PathKey[], part?: 'key' | 'value') => Position;

export function yamlLocator(doc: Document, lines: LineCounter): Locate {
  return (path, part) => positionOf(lines, offsetIn(doc, path, part));
}

/** The line and column of an offset of the text the counter counted. */
export function positionOf(lines: LineCounter, offset: number): Position {
  const { line, col } = lines.linePos(offset);
  // An empty file has no line 1 in the counter; its problems still belong there.
  return { line: Math.max(1, line), col: Math.max(1, col) };
}

/** The offset in `doc`'s text that a path points at (see `Locate`). */
export function offsetIn(doc: Document, path: readonly PathKey[], part: 'key' | 'value' = 'value'): number {
  const start = (node: unknown): number | undefined => (node && typeof node === 'object' && 'range' in node ? (node as Node).range?.[0] : undefined);
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      keyNode = undefined;
      node = node.items[seg];
    } else {
      break;
    }
  }
  // An empty value (`to:`) has no text of its own: its key is what the reader sees.
  const emptyValue = isScalar(node) && node.value === null && !node.source;
  return (part === 'key' || emptyValue ? start(keyNode) : undefined) ?? start(node) ?? start(keyNode) ?? 0;
}
