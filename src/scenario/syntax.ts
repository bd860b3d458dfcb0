import { isAlias, isCollection, isPair, isScalar, visit, type Document, type LineCounter, type YAMLError } from 'yaml';

/*
 * YAML syntax problems in the words of the file's reader: what to change, at the first character
 * of what is wrong. Suite files and --vars files share them.
 */

export type Located = { line: number; col: number; message: string };

export function position(lines: LineCounter, offset: number): { line: number; col: number } {
  const { line, col } = lines.linePos(offset);
  return { line: Math.max(1, line), col: Math.max(1, col) };
}

/**
 * Every syntax problem of a parsed document, one per line (the parser's follow-on errors on the
 * same line only repeat it). Warnings count too: an unknown tag or directive would otherwise
 * change a value unseen.
 */
export function syntaxProblems(doc: Document, text: string, lines: LineCounter): Located[] {
  const found = [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0]);
  const once = (all: Located[]) => all.filter((p, i) => all.findIndex((q) => q.line === p.line) === i);
  // An unquoted ${NAME} in brackets throws the parser off for the rest of the file: its fix alone.
  const unquoted = found.map((e) => unquotedVariable(e, text, lines)).filter((p) => p !== undefined);
  if (unquoted.length > 0) return once(unquoted);
  return once(found.map((e) => yamlProblem(e, doc, text, lines)).concat(unresolvedAliases(doc, text, lines), otherYamlVersion(doc, text, lines)));
}

// yaml's token names, as the character the reader sees.
const TOKEN_CHARS: Record<string, string> = {
  'flow-map-end': '}',
  'flow-seq-end': ']',
  'flow-map-start': '{',
  'flow-seq-start': '[',
  comma: ',',
  'map-value-ind': ':',
  'seq-item-ind': '-',
  'explicit-key-ind': '?',
  anchor: '&',
  tag: '!',
  alias: '*',
};

/**
 * yaml's messages name the parser's rules (implicit keys, compact mappings); these say what to
 * change in the file, for every error code yaml has, at the first character of what is wrong.
 */
function yamlProblem(e: YAMLError, doc: Document, text: string, lines: LineCounter): Located {
  let offset = e.pos[0];
  // yaml points at the start of a line for a misplaced line: the reader looks for its first character.
  const lineStart = offset === 0 || text[offset - 1] === '\n';
  if (lineStart) while (text[offset] === ' ') offset++;
  const at = (message: string, where = offset): Located => ({ ...position(lines, where), message });
  const word = (text.slice(offset).match(/^[^\s,\]}]+/) ?? [''])[0];
  const found = word.length > 40 ? `${word.slice(0, 40)}...` : word;
  switch (e.code) {
    case 'TAB_AS_INDENT':
      return at('a tab indents this line; YAML indents with spaces only');
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (text[offset] === '-')
        return at("a list item ('- ') where a key of the mapping above was expected: indent it under the key it belongs to, or remove the dash");
      return at("this value contains ': ', which YAML reads as a nested mapping; put the whole value in quotes");
    case 'MULTILINE_IMPLICIT_KEY':
    case 'KEY_OVER_1024_CHARS':
      return at(`'${found}' is not followed by ': ': write a key as 'name: value' (a colon and a space), or indent this line under the value it continues`);
    case 'MISSING_CHAR':
      if (/quote/.test(e.message)) return at('unclosed quote: this string is never closed', unclosedQuote(doc, offset));
      if (/map values/.test(e.message))
        return at(`'${found}' is not followed by ': ': write a key as 'name: value' (a colon and a space), or indent this line under the value it continues`);
      return at(`a '${/[\]},]/.exec(e.message)?.[0] ?? ''}' is missing here: close the bracket opened before`);
    case 'BAD_INDENT': {
      const flow = /Flow (map|sequence)/.exec(e.message);
      if (flow) {
        const [open, close] = flow[1] === 'map' ? ['{', '}'] : ['[', ']'];
        const from = unclosedFlow(doc, text, offset, flow[1] === 'map' ? '}' : ']');
        return at(
          `the '${open}' opened on line ${position(lines, from).line} is never closed: add '${close}' at the end of its ${flow[1] === 'map' ? 'mapping' : 'list'}`,
          from,
        );
      }
      return at(`'${found.replace(/:$/, '')}' is not lined up with the keys of its mapping: indent it with as many spaces as the key it belongs with`);
    }
    case 'UNEXPECTED_TOKEN': {
      const token = /Unexpected ([\w-]+) token/.exec(e.message)?.[1];
      const char = token && TOKEN_CHARS[token];
      if (char) return at(`'${char}' here closes or continues nothing: remove it, or check the brackets and indentation before it`);
      return at(
        `unexpected '${found}' after the end of a value: a value in quotes ends at its closing quote; put the whole value in quotes, or remove what follows`,
      );
    }
    case 'DUPLICATE_KEY':
      return at(duplicateKey(doc, offset, lines));
    case 'BAD_DQ_ESCAPE':
      return at(
        `'${found.slice(0, 2)}' is not an escape in a double-quoted string: write '\\\\' for a backslash, or use single quotes, where a backslash is an ordinary character`,
      );
    case 'BAD_SCALAR_START':
      return at(`a value cannot start with '${found.charAt(0)}' unquoted: put the value in quotes`);
    case 'BLOCK_IN_FLOW':
      return at(
        "a '- ' item or 'key: value' line inside [ ] or { }: inside brackets separate items with commas; or drop the brackets and write one item per line",
      );
    case 'MULTIPLE_DOCS':
      return at("a second document starts here ('---' or '...'): a suite file holds one suite; remove the line, or move what follows to its own file");
    case 'BAD_DIRECTIVE':
      return at(`'${found}' is not a YAML directive xfed reads: remove the line`);
    case 'TAG_RESOLVE_FAILED':
    case 'BAD_COLLECTION_TYPE':
      return at(`the tag '${found}' cannot be applied to this value: suites need no tags; remove it`);
    case 'MULTIPLE_ANCHORS':
      return at('a value has at most one anchor (&name): remove the others');
    case 'MULTIPLE_TAGS':
      return at('a value has at most one tag (!tag): remove the others');
    case 'ALIAS_PROPS':
      return at(`an alias (${found}) stands for its anchored value as it is: remove the tag or anchor before it`);
    case 'BAD_PROP_ORDER':
      return at('the anchor (&name) and tag (!tag) go before the value, not after it');
    case 'BAD_ALIAS':
      return at(`'${found}' names no anchor defined before it: define '&${found.slice(1)}' on an earlier value, or write the value out`);
    case 'NON_STRING_KEY':
      return at('a key must be a name, not a list or a mapping');
    case 'RESOURCE_EXHAUSTION': {
      // yaml's composer ran out of stack: lists or mappings nested thousands deep. Where it gave
      // up depends on the stack; the run of brackets it is in starts at a fixed place.
      let from = offset;
      while (from > 0 && '[{ '.includes(text[from - 1]!)) from--;
      while (text[from] === ' ') from++;
      return at(
        'lists or mappings are nested too deep here to read: a suite nests a few levels; look for brackets that are never closed or lines indented ever further',
        from,
      );
    }
    default: {
      const said = e.message.replace(/ at line \d+, column \d+.*$/s, '');
      return at(said.charAt(0).toLowerCase() + said.slice(1));
    }
  }
}

function unclosedQuote(doc: Document, offset: number): number {
  let start = offset;
  visit(doc, {
    Scalar(_, s) {
      const [from, to] = s.range ?? [0, -1];
      if ((s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE') && from <= offset && offset <= to) start = from;
    },
  });
  return start;
}

/** The bracket yaml found unclosed: the last flow collection before where yaml complained whose text lacks its closing bracket. */
function unclosedFlow(doc: Document, text: string, offset: number, close: string): number {
  let start = offset;
  visit(doc, {
    Node(_, n) {
      if (!isCollection(n) || !n.flow || !n.range || n.range[0] >= offset) return;
      if (text[n.range[0]] === (close === '}' ? '{' : '[') && !text.slice(n.range[0], n.range[1]).trimEnd().endsWith(close)) start = n.range[0];
    },
  });
  return start;
}

function duplicateKey(doc: Document, offset: number, lines: LineCounter): string {
  const keyOf = (p: unknown) => (isPair(p) && isScalar(p.key) ? p.key : undefined);
  let message = 'duplicate key in this mapping';
  visit(doc, {
    Map(_, map) {
      const dup = keyOf(map.items.find((p) => keyOf(p)?.range?.[0] === offset));
      const first = dup && keyOf(map.items.find((p) => keyOf(p)?.value === dup.value));
      if (!dup || !first || first === dup) return undefined;
      message = `duplicate key '${String(dup.value)}' (first at line ${position(lines, first.range![0]).line}): a mapping has each key once; remove one`;
      return visit.BREAK;
    },
  });
  return message;
}

/** A `%YAML 1.1` directive: it would read yes, no, on and off as booleans, and the suite's words differently. */
function otherYamlVersion(doc: Document, text: string, lines: LineCounter): Located[] {
  const { version, explicit } = doc.directives?.yaml ?? {};
  if (!explicit || version === '1.2') return [];
  return [
    {
      ...position(lines, Math.max(0, text.search(/^%YAML/m))),
      message: `'%YAML ${version}' reads yes, no, on and off as true and false: xfed reads suites as YAML 1.2; remove the line`,
    },
  ];
}

/** An alias whose anchor no earlier value defines: yaml's toJS would throw without a position. */
function unresolvedAliases(doc: Document, text: string, lines: LineCounter): Located[] {
  const defined = new Set<string>();
  const found: Located[] = [];
  visit(doc, {
    Node(_, n) {
      if (isAlias(n)) {
        if (!defined.has(n.source) && n.range)
          found.push(yamlProblem({ code: 'BAD_ALIAS', pos: [n.range[0], n.range[1]], message: '' } as YAMLError, doc, text, lines));
      } else if (n.anchor) defined.add(n.anchor);
    },
  });
  return found;
}

/**
 * `${NAME}` unquoted inside [ ] or { }: there YAML reads its `{` as the start of a mapping, and
 * the errors it then reports would send the reader to the wrong fix.
 */
function unquotedVariable(e: YAMLError, text: string, lines: LineCounter): Located | undefined {
  const start = text.lastIndexOf('\n', e.pos[0] - 1) + 1;
  const end = text.indexOf('\n', start);
  const line = text.slice(start, end < 0 ? text.length : end);
  let quote = '';
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    // A quote starts a quoted value only where a value starts; elsewhere it is an apostrophe.
    const before = line.slice(0, i).trimEnd().at(-1);
    if ((c === '"' || c === "'") && (before === undefined || '[{,:-'.includes(before))) quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) break;
    else if (c === '$' && line[i + 1] === '{' && depth > 0 && line[i - 1] !== '$') {
      const close = line.indexOf('}', i);
      const written = close < 0 ? line.slice(i, i + 20) : line.slice(i, close + 1);
      return {
        ...position(lines, start + i),
        message: `'${written}' inside [ ] or { } needs quotes: write "${written}" (unquoted, YAML reads its '{' as the start of a mapping)`,
      };
    } else if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}
