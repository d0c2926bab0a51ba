/**
 * A Run form from a workflow's `input` JSON Schema: one field per required
 * name and per property of an object schema, typed
 * by the property's schema; anything else is edited as JSON. The form does
 * not re-implement JSON Schema: the server validates the input and answers
 * with paths (`input.phone`) that the form puts beside its fields.
 */
import type { JsonValue, ValidationIssue } from '../api/types.js';

/** How a field is edited. */
export type FieldKind = 'text' | 'multiline' | 'number' | 'integer' | 'boolean' | 'choice' | 'json';

/** One field of the form. */
export interface InputField {
  name: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  /** `choice`: the enum's values. */
  options?: JsonValue[];
  minimum?: number;
  maximum?: number;
  /** The schema's `default`, as the field's starting text. */
  initial: string;
}

/** The form: its fields, or (`fields` empty) the whole input as one JSON text. */
export interface InputForm {
  fields: InputField[];
}

type Schema = { [key: string]: JsonValue | undefined };
const isObject = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The form of an `input` schema (none: the input is free JSON). */
export function inputFormOf(schema: unknown): InputForm {
  if (!isObject(schema)) return { fields: [] };
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [];
  // Required fields first, in the order the schema requires them; then the optional properties.
  const names = [...new Set([...required, ...Object.keys(properties)])];
  return { fields: names.map((name) => fieldOf(name, properties[name], required.includes(name))) };
}

function fieldOf(name: string, schema: JsonValue | undefined, required: boolean): InputField {
  const s: Schema = isObject(schema) ? schema : {};
  const field: InputField = { name, kind: kindOf(s), required, initial: initialOf(s) };
  if (typeof s.description === 'string') field.description = s.description;
  if (Array.isArray(s.enum)) {
    field.options = s.enum;
    // A choice's text is the index of its option: enum values need not be strings.
    const index = s.enum.findIndex((option) => JSON.stringify(option) === JSON.stringify(s.default));
    field.initial = index < 0 ? '' : String(index);
  }
  if (typeof s.minimum === 'number') field.minimum = s.minimum;
  if (typeof s.maximum === 'number') field.maximum = s.maximum;
  return field;
}

function kindOf(s: Schema): FieldKind {
  if (Array.isArray(s.enum)) return 'choice';
  // A property without a type (a bare `required` name) is asked for as text.
  switch (s.type ?? 'string') {
    case 'string':
      return typeof s.maxLength === 'number' && s.maxLength > 120 ? 'multiline' : 'text';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'json';
  }
}

function initialOf(s: Schema): string {
  if (s.default === undefined) return '';
  return typeof s.default === 'string' ? s.default : JSON.stringify(s.default);
}

/** What the operator typed: text per field (a JSON text for `json` fields and the free form). */
export type FormValues = Record<string, string>;

/** Name of the one text of a form without fields. */
export const FREE_INPUT = '$input';

/** The input the values make, or the problems that stop it from being sent. */
export function inputFromValues(
  form: InputForm,
  values: FormValues,
): { input: JsonValue; issues: [] } | { issues: ValidationIssue[] } {
  if (form.fields.length === 0) {
    const text = values[FREE_INPUT]?.trim() || '{}';
    try {
      return { input: JSON.parse(text) as JsonValue, issues: [] };
    } catch {
      return { issues: [{ path: 'input', message: 'is not valid JSON' }] };
    }
  }
  const input: Record<string, JsonValue> = {};
  const issues: ValidationIssue[] = [];
  for (const field of form.fields) {
    const text = values[field.name] ?? '';
    // An empty field is left out: the server says whether it was required.
    if (text === '') continue;
    const value = parseField(field, text);
    if (value === undefined) issues.push({ path: `input.${field.name}`, message: problemOf(field.kind) });
    else input[field.name] = value;
  }
  return issues.length > 0 ? { issues } : { input, issues: [] };
}

function parseField(field: InputField, text: string): JsonValue | undefined {
  switch (field.kind) {
    case 'text':
    case 'multiline':
      return text;
    case 'number':
    case 'integer': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      return text === 'true';
    case 'choice':
      return field.options?.[Number(text)];
    case 'json':
      try {
        return JSON.parse(text) as JsonValue;
      } catch {
        return undefined;
      }
  }
}

function problemOf(kind: FieldKind): string {
  return kind === 'json' ? 'is not valid JSON' : 'is not a number';
}

/** The field an issue of the server is about (`input.phone`, `input["a b"][0]`), if any. */
export function fieldOfIssue(issue: ValidationIssue): string | undefined {
  const match = /^input(?:\.([A-Za-z_$][\w$]*)|\[("(?:[^"\\]|\\.)*")\])/.exec(issue.path);
  if (!match) return undefined;
  return match[1] ?? (JSON.parse(match[2]!) as string);
}
