import type { z } from 'zod';
import type { PathKey } from './positions.js';
import { isRecord } from './paths.js';

/**
 * Finds the zod schema that governs a path of parsed data, following discriminated unions by
 * the data's discriminator: the issue formatter needs it for the keys an object allows and to
 * recognise unions (durations, expectations) whose default messages say nothing useful.
 */
export type Schema = z.core.$ZodType;

interface Def {
  type: string;
  innerType?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  options?: readonly Schema[];
  discriminator?: string;
  values?: readonly unknown[];
}

export const defOf = (s: Schema): Def => s._zod.def as unknown as Def;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch']);

export function unwrap(s: Schema): Schema {
  let cur = s;
  while (WRAPPERS.has(defOf(cur).type) && defOf(cur).innerType) cur = defOf(cur).innerType!;
  return cur;
}

/** The union option the value belongs to: by discriminator, else the first object with its keys. */
function optionFor(s: Schema, value: unknown): Schema | undefined {
  const def = defOf(unwrap(s));
  if (def.type !== 'union') return unwrap(s);
  const options = (def.options ?? []).map(unwrap);
  if (def.discriminator !== undefined) {
    const disc = isRecord(value) ? value[def.discriminator] : undefined;
    return options.find((o) => defOf(unwrap(defOf(o).shape?.[def.discriminator!] ?? o)).values?.includes(disc));
  }
  const keys = isRecord(value) ? Object.keys(value) : [];
  return options.find((o) => defOf(o).type === 'object' && keys.length > 0 && keys.every((k) => k in (defOf(o).shape ?? {})));
}

export function schemaAt(root: Schema, data: unknown, path: readonly PathKey[]): Schema | undefined {
  let s: Schema | undefined = root;
  let v = data;
  for (const seg of path) {
    if (!s) return undefined;
    s = optionFor(s, v);
    const def: Def | undefined = s ? defOf(s) : undefined;
    s = def?.type === 'object' ? def.shape?.[String(seg)] : def?.type === 'array' ? def.element : undefined;
    v = v !== null && typeof v === 'object' ? (v as Record<PathKey, unknown>)[seg] : undefined;
  }
  return s && unwrap(s);
}

/** The keys an object schema (or the union option the value picks) allows. */
export function knownKeys(s: Schema | undefined, value: unknown): string[] {
  const o = s && optionFor(s, value);
  return o && defOf(o).type === 'object' ? Object.keys(defOf(o).shape ?? {}) : [];
}
