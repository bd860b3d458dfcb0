// Checks the CI templates xfed ships (node --import tsx scripts/check-ci-templates.ts [FILE...]):
// YAML syntax; GitHub's action and workflow files against SchemaStore's schemas (through
// @action-validator/core, which carries them); Azure Pipelines steps templates against
// test/fixtures/ci/azure-pipelines-steps.schema.json; and what no schema sees: every
// `${{ inputs.x }}` of an action and every `${{ parameters.x }}` of a template is declared.
// Prints `file:line:col: message` per problem and exits 1 when there is one.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The templates in this repository, and what each is. */
export const TEMPLATES: { file: string; kind: Kind }[] = [
  { file: '.github/actions/xfed/action.yml', kind: 'github-action' },
  { file: 'docs/ci/github-actions.yml', kind: 'github-workflow' },
  { file: 'ci/azure-pipelines/xfed-steps.yml', kind: 'azure-steps-template' },
  { file: 'docs/ci/azure-pipelines.yml', kind: 'azure-pipeline' },
];

export type Kind = 'github-action' | 'github-workflow' | 'azure-steps-template' | 'azure-pipeline';

export interface Problem {
  line: number;
  col: number;
  message: string;
}

interface ActionValidator {
  validateAction(src: string): { errors: ValidatorError[] };
  validateWorkflow(src: string): { errors: ValidatorError[] };
}
interface ValidatorError {
  code: string;
  title: string;
  detail?: string;
  path?: string;
  location?: { line: number; column: number };
  states?: { errors: ValidatorError[] }[];
}

let validator: Promise<ActionValidator> | undefined;
// A CommonJS package with WebAssembly inside; loaded only when a GitHub file is checked.
const actionValidator = (): Promise<ActionValidator> => (validator ??= import('@action-validator/core') as Promise<ActionValidator>);

let azureSchema: ValidateFunction | undefined;
function azureValidate(data: unknown): ErrorObject[] {
  azureSchema ??= new Ajv({ allErrors: true, strict: false }).compile(
    JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/ci/azure-pipelines-steps.schema.json'), 'utf8')) as object,
  );
  return azureSchema(data) ? [] : (azureSchema.errors ?? []);
}

/** Every problem of one template. */
export async function checkTemplate(text: string, kind: Kind): Promise<Problem[]> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line: Math.max(1, line), col: Math.max(1, col) };
  };
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) return syntax.map((e) => ({ ...at(e.pos[0]), message: e.message.split('\n')[0]! }));
  const atPath = (pointer: string) => at(offsetOf(doc, pointer));
  const problems: Problem[] = [];
  if (kind === 'github-action' || kind === 'github-workflow') {
    const v = await actionValidator();
    const { errors } = kind === 'github-action' ? v.validateAction(text) : v.validateWorkflow(text);
    for (const e of leaves(errors)) {
      const where = e.location ? { line: e.location.line, col: e.location.column } : atPath(e.path ?? '');
      problems.push({ ...where, message: `${e.path ? `${e.path}: ` : ''}${e.detail ?? e.title}` });
    }
  } else {
    // A full pipeline's steps are checked as a template's are; its other keys are the service's to judge.
    const data = doc.toJS() as unknown;
    const steps = kind === 'azure-pipeline' ? pipelineSteps(data) : [{ pointer: '', value: data }];
    for (const { pointer, value } of steps) {
      for (const e of azureValidate(value)) {
        // `if` says only that a `then` failed (its own errors are there too); the branches of the step-kind `anyOf` say once more what it says.
        if (e.keyword === 'if' || e.schemaPath.includes('/anyOf/')) continue;
        problems.push({ ...atPath(pointer + e.instancePath), message: `${pointer + e.instancePath || '/'}: ${azureMessage(e)}` });
      }
    }
  }
  problems.push(...undeclared(doc, kind, at));
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** The errors a `oneOf` nests: the deepest, once each (the branch nearest to valid says what is wrong). */
function leaves(errors: readonly ValidatorError[]): ValidatorError[] {
  const out = new Map<string, ValidatorError>();
  const walk = (es: readonly ValidatorError[]) => {
    for (const e of es) {
      if (e.states && e.states.length > 0) {
        // The branch with the fewest errors is the one the author meant.
        const best = [...e.states].sort((a, b) => count(a.errors) - count(b.errors))[0]!;
        walk(best.errors);
      } else {
        out.set(`${e.path}|${e.detail ?? e.title}`, e);
      }
    }
  };
  walk(errors);
  return [...out.values()];
}
const count = (es: readonly ValidatorError[]): number => es.reduce((n, e) => n + (e.states ? Math.min(...e.states.map((s) => count(s.errors))) : 1), 0);

function azureMessage(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown key '${String(e.params.additionalProperty)}'`;
  if (e.keyword === 'anyOf')
    return 'is no step: a step has one of task, script, bash, pwsh, powershell, checkout, publish, download, template, or is a ${{ }} insertion';
  if (e.keyword === 'pattern' && e.instancePath.endsWith('/task')) return 'names no task version: write NAME@MAJOR (PublishTestResults@2)';
  if (e.keyword === 'enum') return `${e.message} (${(e.params.allowedValues as unknown[]).join(', ')})`;
  return e.message ?? e.keyword;
}

/** The step lists of a pipeline: top-level `steps`, and those of its jobs and stages. */
function pipelineSteps(data: unknown): { pointer: string; value: unknown }[] {
  const out: { pointer: string; value: unknown }[] = [];
  const visit = (node: unknown, pointer: string) => {
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.steps)) out.push({ pointer, value: { steps: o.steps } });
    for (const key of ['jobs', 'stages'] as const) if (Array.isArray(o[key])) (o[key] as unknown[]).forEach((x, i) => visit(x, `${pointer}/${key}/${i}`));
  };
  visit(data, '');
  return out;
}

/** The text offset of a JSON pointer into the document (the nearest node that exists). */
function offsetOf(doc: Document, pointer: string): number {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    let next: unknown;
    if (isMap(node)) next = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
    else if (isSeq(node)) next = node.items[Number(seg)];
    if (next === undefined) break;
    if (isPair(next)) {
      offset = (next.key as Node | null)?.range?.[0] ?? offset;
      node = next.value;
    } else {
      node = next;
      offset = (node as Node | null)?.range?.[0] ?? offset;
    }
  }
  return offset;
}

const EXPRESSION = /\$\{\{(.*?)\}\}/gs;

/**
 * Template expressions that name an input or parameter the file does not declare: GitHub expands
 * those to an empty string and Azure fails only when the pipeline runs, so a typo would pass
 * every schema. In an action, `if:` values are expressions without the `${{ }}` too.
 */
function undeclared(doc: Document, kind: Kind, at: (offset: number) => { line: number; col: number }): Problem[] {
  const github = kind === 'github-action';
  if (kind !== 'github-action' && kind !== 'azure-steps-template') return [];
  const data = doc.toJS() as Record<string, unknown> | null;
  const declared = new Set(
    github
      ? Object.keys((data?.inputs as object | undefined) ?? {})
      : ((data?.parameters as { name?: string }[] | undefined) ?? []).map((p) => String(p?.name)),
  );
  const what = github ? 'inputs' : 'parameters';
  const reference = new RegExp(`\\b${what}(?:\\.([A-Za-z_][\\w-]*)|\\[\\s*'([^']*)'\\s*\\])`, 'g');
  const problems: Problem[] = [];
  const scan = (expression: string, offset: number) => {
    for (const m of expression.matchAll(reference)) {
      const name = m[1] ?? m[2]!;
      if (!declared.has(name)) problems.push({ ...at(offset), message: `${what}.${name} is not declared (${what}: ${[...declared].join(', ') || 'none'})` });
    }
  };
  const walk = (node: unknown, key?: string) => {
    if (isScalar(node) && typeof node.value === 'string') {
      const offset = node.range?.[0] ?? 0;
      if (github && key === 'if') scan(node.value, offset);
      else for (const m of node.value.matchAll(EXPRESSION)) scan(m[1]!, offset);
    } else if (isMap(node)) {
      for (const pair of node.items) {
        walk(pair.key);
        walk(pair.value, isScalar(pair.key) ? String(pair.key.value) : undefined);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) walk(item);
    }
  };
  walk(doc.contents);
  return problems;
}

async function main(args: string[]): Promise<number> {
  const targets = args.length > 0 ? args.map((file) => ({ file, kind: kindOf(file) })) : TEMPLATES.map((t) => ({ ...t, file: path.join(ROOT, t.file) }));
  let bad = 0;
  for (const { file, kind } of targets) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${(err as Error).message}\n`);
      bad++;
      continue;
    }
    const problems = await checkTemplate(text, kind);
    const shown = path.relative(process.cwd(), file) || file;
    for (const p of problems) process.stderr.write(`${shown}:${p.line}:${p.col}: ${p.message}\n`);
    if (problems.length > 0) bad++;
    else process.stdout.write(`ok ${shown} (${kind})\n`);
  }
  return bad > 0 ? 1 : 0;
}

/** A file given on the command line: its kind from where it lives and what it holds. */
function kindOf(file: string): Kind {
  const known = TEMPLATES.find((t) => path.resolve(ROOT, t.file) === path.resolve(file));
  if (known) return known.kind;
  const text = readFileSync(file, 'utf8');
  if (/^runs:/m.test(text)) return 'github-action';
  if (/^on:/m.test(text) && /^jobs:/m.test(text)) return 'github-workflow';
  if (/^parameters:/m.test(text) && /^steps:/m.test(text) && !/^(pool|trigger|jobs|stages):/m.test(text)) return 'azure-steps-template';
  return 'azure-pipeline';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
