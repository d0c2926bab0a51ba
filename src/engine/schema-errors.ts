/**
 * Turns ajv errors into {@link ValidationIssue}s whose paths read the way a
 * user points at their document: `steps[2].dependsOn[0]`, not JSON Pointer.
 */
import type { ErrorObject } from 'ajv';
import type { ValidationIssue } from './errors.js';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends one segment (property name or array index) to a dotted path. */
export function joinPath(base: string, segment: string | number): string {
  if (typeof segment === 'number' || /^\d+$/.test(segment)) return `${base}[${segment}]`;
  if (IDENTIFIER.test(segment)) return base ? `${base}.${segment}` : segment;
  return `${base}[${JSON.stringify(segment)}]`;
}

/** `/steps/2/dependsOn/0` -> `steps[2].dependsOn[0]`, below an optional prefix. */
export function pointerToPath(pointer: string, prefix = ''): string {
  if (!pointer) return prefix;
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((path, part) => joinPath(path, part), prefix);
}

/** Maps ajv errors to issues, one per distinct path and message. */
export function ajvErrorsToIssues(errors: ErrorObject[] | null | undefined, prefix = ''): ValidationIssue[] {
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const error of errors ?? []) {
    const issue = toIssue(error, prefix);
    if (!issue) continue;
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function toIssue(error: ErrorObject, prefix: string): ValidationIssue | undefined {
  const path = pointerToPath(error.instancePath, prefix);
  // A key that breaks `propertyNames`: name the key itself, once.
  if (error.keyword === 'propertyNames') return undefined;
  if (error.propertyName !== undefined) {
    const why =
      error.keyword === 'pattern'
        ? `must match the pattern ${String(error.params.pattern)}`
        : (error.message ?? 'is invalid');
    return { path: joinPath(path, error.propertyName), message: `is not a valid name: ${why}` };
  }
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: joinPath(path, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return {
        path: joinPath(path, String(params.additionalProperty)),
        message: 'is not an allowed property',
      };
    case 'enum':
      return {
        path,
        message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'pattern':
      return { path, message: `must match the pattern ${String(params.pattern)}` };
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}
