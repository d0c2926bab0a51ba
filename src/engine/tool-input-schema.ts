/**
 * Checks tool arguments against a tool's published `inputSchema`
 * (JSON Schema, 2020-12 by default in MCP). Used at registration, on the
 * literal params of a step, and by the MCP client before a call, so an
 * argument error is reported as invalid params (never retried) instead of
 * a tool error the server would phrase its own way.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidationIssue } from './errors.js';
import { isExpression } from './expressions.js';
import { canonicalJson } from './json.js';
import { ajvErrorsToIssues, joinPath } from './schema-errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
// Tool schemas come from servers: annotations and unknown keywords are theirs to use.
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false, validateSchema: false }));
const compiled = new Map<string, ValidateFunction | null>();
/**
 * The same schema object (a tool of the cached tool list) finds its validator
 * without being serialised again: the MCP client checks every call's
 * arguments, and canonical JSON of the schema cost more than the check.
 */
const bySchemaObject = new WeakMap<object, ValidateFunction | null>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction | null {
  const known = bySchemaObject.get(schema);
  if (known !== undefined) return known;
  const validate = validatorByContent(schema);
  bySchemaObject.set(schema, validate);
  return validate;
}

function validatorByContent(schema: Record<string, unknown>): ValidateFunction | null {
  const { $schema: _ignored, $id: _id, ...rest } = schema;
  const key = canonicalJson(rest);
  let validate = compiled.get(key);
  if (validate === undefined) {
    try {
      validate = ajv.compile(rest);
    } catch {
      // A schema we cannot compile is not ours to enforce.
      validate = null;
    }
    if (compiled.size > 1000) compiled.clear();
    compiled.set(key, validate);
  }
  return validate;
}

/** Problems of concrete arguments against a schema, paths below `prefix`. */
export function checkToolArguments(
  schema: Record<string, unknown>,
  args: unknown,
  prefix = 'arguments',
): ValidationIssue[] {
  const validate = validatorFor(schema);
  if (!validate || validate(args)) return [];
  return ajvErrorsToIssues(validate.errors, prefix);
}

/**
 * Problems of a step's params template that no evaluation can fix: required
 * properties that are missing, properties the schema forbids, and literal
 * values of the wrong shape. Values that are expressions are not judged.
 */
export function checkParamsTemplate(
  schema: Record<string, unknown>,
  params: Record<string, unknown>,
  at: string,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  for (const name of required) {
    if (!(name in params)) issues.push({ path: joinPath(at, name), message: 'is required by the tool' });
  }
  if (schema.additionalProperties === false) {
    for (const name of Object.keys(params)) {
      if (!(name in properties))
        issues.push({ path: joinPath(at, name), message: 'is not a parameter of the tool' });
    }
  }
  for (const [name, value] of Object.entries(params)) {
    const property = properties[name];
    if (!property || containsExpression(value)) continue;
    issues.push(...checkToolArguments(property, value, joinPath(at, name)));
  }
  return issues;
}

function containsExpression(value: unknown): boolean {
  if (isExpression(value)) return true;
  if (Array.isArray(value)) return value.some(containsExpression);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsExpression);
  return false;
}
