/**
 * Expressions in params, conditions and outputs (DESIGN.md, Workflows).
 *
 * A string that starts with `$input`, `$steps` or `$execution` is an
 * expression. A bare path (`$steps.get_contact.result.phone`) is read by a
 * plain property walk, which keeps the value's type and costs nothing; any
 * other expression is JSONata, compiled once at registration and never
 * evaluated with `eval`. See docs/decisions/0001-expression-language.md.
 */
import jsonata from 'jsonata';
import { ErrorCode, OrchestratorError, type ValidationIssue } from './errors.js';
import { joinPath } from './schema-errors.js';

/** What expressions see: `$input`, `$steps`, `$execution`. */
export interface ExpressionScope {
  input: unknown;
  steps: Record<string, StepView>;
  execution: ExecutionView;
}

/** `$steps.NAME` */
export interface StepView {
  status: string;
  result?: unknown;
  error?: unknown;
  attempts: number;
}

/** `$execution` */
export interface ExecutionView {
  id: string;
  workflow: { name: string; version: string };
  startedAt: string | null;
}

/** A value computed from a scope; `references` names the steps it reads (`*` for all). */
export interface Compiled<T = unknown> {
  readonly references: ReadonlySet<string>;
  /** Where in a template each referenced step is first read (`steps[1].params.to`), for messages. */
  readonly referencePaths?: ReadonlyMap<string, string>;
  /** True when evaluation needs no scope (a literal). */
  readonly constant: boolean;
  evaluate(scope: ExpressionScope): Promise<T>;
}

/** Compilation either yields the value or the problems, each with its path. */
export type CompileResult<T> = { ok: true; value: Compiled<T> } | { ok: false; issues: ValidationIssue[] };

const EXPRESSION_START = /^\$(input|steps|execution)(?![A-Za-z0-9_])/;
const BARE_PATH = /^\$(input|steps|execution)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)$/;
const SEGMENT = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g;
const ALL_STEPS = '*';

/** Whether a string is an expression rather than a literal. */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && EXPRESSION_START.test(value.trimStart());
}

/** Compiles one expression string (which need not start with `$input` etc., for conditions). */
export function compileExpression(text: string, path: string): CompileResult<unknown> {
  const source = text.trim();
  const bare = BARE_PATH.exec(source);
  if (bare) return { ok: true, value: compileBarePath(bare[1] as keyof ExpressionScope, bare[2] ?? '') };
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source);
  } catch (error) {
    const e = error as { message?: string; position?: number };
    const at = e.position === undefined ? '' : ` at position ${e.position}`;
    return { ok: false, issues: [{ path, message: `invalid expression '${source}': ${e.message}${at}` }] };
  }
  const references = new Set<string>();
  collectStepReferences(expression.ast(), references);
  return {
    ok: true,
    value: {
      references,
      constant: false,
      async evaluate(scope) {
        try {
          return await expression.evaluate(scope.input, scope as unknown as Record<string, unknown>);
        } catch (error) {
          const e = error as { message?: string };
          throw new OrchestratorError(
            ErrorCode.ExpressionError,
            `${path}: expression '${source}' failed: ${e.message}`,
            {
              cause: error,
            },
          );
        }
      },
    },
  };
}

function compileBarePath(root: keyof ExpressionScope, rest: string): Compiled<unknown> {
  const segments: (string | number)[] = [];
  for (const match of rest.matchAll(SEGMENT)) segments.push(match[1] ?? Number(match[2]));
  const references = new Set<string>();
  if (root === 'steps') references.add(typeof segments[0] === 'string' ? segments[0] : ALL_STEPS);
  return {
    references,
    constant: false,
    evaluate(scope) {
      let value: unknown = scope[root];
      for (const segment of segments) {
        if (value === null || typeof value !== 'object') return Promise.resolve(undefined);
        value = Object.hasOwn(value, segment)
          ? (value as Record<string | number, unknown>)[segment]
          : undefined;
      }
      return Promise.resolve(value);
    },
  };
}

/** Walks a JSONata AST for `$steps.NAME` (or bare `$steps`, meaning every step). */
function collectStepReferences(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const child of node) collectStepReferences(child, into);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const n = node as { type?: string; value?: unknown; steps?: { type?: string; value?: unknown }[] };
  if (n.type === 'path' && n.steps?.[0]?.type === 'variable' && n.steps[0].value === 'steps') {
    const second = n.steps[1];
    into.add(second?.type === 'name' && typeof second.value === 'string' ? second.value : ALL_STEPS);
    // The leading `$steps` is accounted for; predicates further along may hold more references.
    collectStepReferences(n.steps.slice(1), into);
    return;
  }
  if (n.type === 'variable' && n.value === 'steps') into.add(ALL_STEPS);
  for (const [key, child] of Object.entries(n)) {
    if (key !== 'position' && typeof child === 'object') collectStepReferences(child, into);
  }
}

/**
 * Compiles a JSON template: every expression string inside it becomes a
 * compiled expression; everything else is kept as written.
 */
export function compileTemplate(value: unknown, path: string): CompileResult<unknown> {
  const issues: ValidationIssue[] = [];
  const references = new Set<string>();
  const referencePaths = new Map<string, string>();
  const build = (node: unknown, at: string): ((scope: ExpressionScope) => Promise<unknown>) | undefined => {
    if (isExpression(node)) {
      const compiled = compileExpression(node, at);
      if (!compiled.ok) {
        issues.push(...compiled.issues);
        return undefined;
      }
      for (const r of compiled.value.references) {
        references.add(r);
        if (!referencePaths.has(r)) referencePaths.set(r, at);
      }
      return (scope) => compiled.value.evaluate(scope);
    }
    if (Array.isArray(node)) {
      const parts = node.map((item, i) => build(item, joinPath(at, i)));
      if (parts.every((p) => p === undefined)) return undefined;
      return async (scope) => Promise.all(node.map((item, i) => (parts[i] ? parts[i](scope) : item)));
    }
    if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node).map(([k, v]) => [k, v, build(v, joinPath(at, k))] as const);
      if (entries.every(([, , fn]) => fn === undefined)) return undefined;
      return async (scope) => {
        const values = await Promise.all(entries.map(([, v, fn]) => (fn ? fn(scope) : v)));
        const out: Record<string, unknown> = {};
        entries.forEach(([k], i) => {
          // A missing value drops the key, as JSON would; null stays null.
          if (values[i] !== undefined) out[k] = values[i];
        });
        return out;
      };
    }
    return undefined;
  };
  const fn = build(value, path);
  if (issues.length > 0) return { ok: false, issues };
  if (!fn) return { ok: true, value: constant(value) };
  return { ok: true, value: { references, referencePaths, constant: false, evaluate: fn } };
}

/** A compiled value that is just the literal. */
export function constant<T>(value: T): Compiled<T> {
  const resolved = Promise.resolve(value);
  return { references: new Set(), constant: true, evaluate: () => resolved };
}

/** How conditions read an expression's value: false, null, missing, 0 and '' skip the step. */
export function isTruthy(value: unknown): boolean {
  return Boolean(value);
}

/** The step names in `references` (without the `*` of a whole-`$steps` read). */
export function namedReferences(references: ReadonlySet<string>): string[] {
  return [...references].filter((r) => r !== ALL_STEPS);
}
