/**
 * `${VAR}` and `${VAR:-default}` in registry strings, replaced from the
 * environment (DESIGN.md, Registry). A variable that is not set and has no
 * default is an error naming the variable and where it is used.
 */
import { joinPath, type ValidationIssue } from '../engine/index.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Result of {@link substituteEnv}. */
export interface SubstitutionResult {
  value: unknown;
  issues: ValidationIssue[];
}

/** Replaces references in every string of `value` (keys are left alone). */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path = '',
): SubstitutionResult {
  const issues: ValidationIssue[] = [];
  const walk = (node: unknown, at: string): unknown => {
    if (typeof node === 'string') {
      return node.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
        const set = env[name];
        // As in the shell: `:-` also replaces an empty value; a bare reference accepts one.
        if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
        if (set !== undefined) return set;
        issues.push({
          path: at,
          message: `environment variable ${name} is not set (use \${${name}:-default} for a default)`,
        });
        return '';
      });
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, joinPath(at, i)));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, joinPath(at, k));
      return out;
    }
    return node;
  };
  return { value: walk(value, path), issues };
}
