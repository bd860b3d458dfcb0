import type { LuaValue } from './types.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Renders a value as a Lua literal; strings are escaped so that no input can break the config. */
export function toLua(value: LuaValue, indent = ''): string {
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot render ${value} as a Lua number`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '{}';
    return `{ ${value.map((v) => toLua(v, inner)).join(', ')} }`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const lines = entries.map(([k, v]) => `${inner}${luaKey(k)} = ${toLua(v, inner)};`);
  return `{\n${lines.join('\n')}\n${indent}}`;
}

function luaKey(key: string): string {
  return IDENTIFIER.test(key) ? key : `[${luaString(key)}]`;
}

export function luaString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f)
      out += `\\${String(code).padStart(3, '0')}`; // Lua's \ddd escape
    else out += ch;
  }
  return `${out}"`;
}
