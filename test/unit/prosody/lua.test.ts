import { describe, expect, it } from '@jest/globals';
import { luaString, toLua } from '../../../src/prosody/lua.js';

describe('toLua', () => {
  it('renders scalars, lists and tables', () => {
    expect(toLua(5)).toBe('5');
    expect(toLua(true)).toBe('true');
    expect(toLua(['a', 1])).toBe('{ "a", 1 }');
    expect(toLua({ nagle: false })).toBe('{\n  nagle = false;\n}');
  });

  it('quotes keys that are not Lua identifiers', () => {
    expect(toLua({ 'local-zone:': 'test. transparent' })).toBe('{\n  ["local-zone:"] = "test. transparent";\n}');
  });

  it('escapes quotes, backslashes and control characters so no value can break the config', () => {
    expect(luaString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(luaString('line\nbreak')).toBe('"line\\010break"');
    expect(luaString('"]] os.exit() --')).toBe('"\\"]] os.exit() --"');
  });

  it('refuses numbers Lua cannot read back', () => {
    expect(() => toLua(Number.NaN)).toThrow(/cannot render/);
  });
});
