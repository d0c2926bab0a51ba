/**
 * Starts an execution of a workflow from a form generated from its `input`
 * JSON Schema (model/input-form.ts), then opens the execution. Problems the
 * server finds in the input are shown beside the fields they name.
 */
import { useMemo, useState } from 'preact/hooks';
import { useApi } from '../api/api-context.js';
import { errorMessage, isApiError } from '../api/api-error.js';
import type { ValidationIssue, WorkflowDefinition } from '../api/types.js';
import {
  type FormValues,
  FREE_INPUT,
  fieldOfIssue,
  type InputField,
  inputFormOf,
  inputFromValues,
} from '../model/input-form.js';
import { navigate } from '../router.js';

/** The Run form of `definition`. */
export function RunForm({ definition }: { definition: WorkflowDefinition }) {
  const api = useApi();
  const form = useMemo(() => inputFormOf(definition.input), [definition]);
  const [values, setValues] = useState<FormValues>(() =>
    Object.fromEntries(form.fields.map((f) => [f.name, f.initial])),
  );
  const [issues, setIssues] = useState<ValidationIssue[]>([]);
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string) => setValues((v) => ({ ...v, [name]: value }));

  const byField = new Map<string, string[]>();
  const general: ValidationIssue[] = [];
  for (const issue of issues) {
    const field = form.fields.length > 0 ? fieldOfIssue(issue) : undefined;
    if (field !== undefined && form.fields.some((f) => f.name === field))
      byField.set(field, [...(byField.get(field) ?? []), issue.message]);
    else general.push(issue);
  }

  const submit = async (event: Event) => {
    event.preventDefault();
    setFailure(undefined);
    const built = inputFromValues(form, values);
    if (built.issues.length > 0 || !('input' in built)) {
      setIssues(built.issues);
      return;
    }
    setBusy(true);
    try {
      const execution = await api.startExecution(definition.name, built.input);
      navigate(`/ui/executions/${encodeURIComponent(execution.id)}`);
    } catch (error) {
      setBusy(false);
      if (isApiError(error, 400) && error.problem.errors?.length) {
        setIssues(error.problem.errors);
        setFailure(error.problem.detail);
      } else {
        setIssues([]);
        setFailure(errorMessage(error));
      }
    }
  };

  return (
    <form class="run-form" onSubmit={submit} noValidate aria-describedby="run-form-help">
      <p id="run-form-help" class="muted">
        {form.fields.length > 0
          ? 'Fields come from the workflow’s input schema; the server checks the values.'
          : 'This workflow declares no input fields: give its input as a JSON object.'}
      </p>
      {form.fields.length === 0 ? (
        <Field
          field={{ name: FREE_INPUT, kind: 'json', required: false, initial: '{}' }}
          label="Input (JSON)"
          value={values[FREE_INPUT] ?? '{}'}
          errors={general.map((i) => i.message)}
          onInput={(v) => set(FREE_INPUT, v)}
        />
      ) : (
        form.fields.map((field) => (
          <Field
            key={field.name}
            field={field}
            label={field.name}
            value={values[field.name] ?? ''}
            errors={byField.get(field.name) ?? []}
            onInput={(v) => set(field.name, v)}
          />
        ))
      )}
      {(failure || (form.fields.length > 0 && general.length > 0)) && (
        <div class="alert" role="alert">
          {failure ?? 'The input was not sent.'}
          {form.fields.length > 0 && general.length > 0 && (
            <ul>
              {general.map((issue) => (
                <li key={`${issue.path}:${issue.message}`}>
                  <code>{issue.path}</code> {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
        {busy ? 'Starting…' : 'Run workflow'}
      </button>
    </form>
  );
}

interface FieldProps {
  field: InputField;
  label: string;
  value: string;
  errors: string[];
  onInput(value: string): void;
}

function Field({ field, label, value, errors, onInput }: FieldProps) {
  const id = `input-${field.name.replace(/[^\w-]/g, '_')}`;
  const described = [field.description ? `${id}-help` : '', errors.length > 0 ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  const common = {
    id,
    name: field.name,
    'aria-required': field.required,
    'aria-invalid': errors.length > 0,
    ...(described ? { 'aria-describedby': described } : {}),
  };
  const change = (event: Event) => onInput((event.currentTarget as HTMLInputElement).value);
  let control: preact.JSX.Element;
  switch (field.kind) {
    case 'text':
      control = <input {...common} type="text" value={value} onInput={change} autoComplete="off" />;
      break;
    case 'number':
    case 'integer':
      control = (
        <input
          {...common}
          type="number"
          inputMode={field.kind === 'integer' ? 'numeric' : 'decimal'}
          step={field.kind === 'integer' ? 1 : 'any'}
          min={field.minimum}
          max={field.maximum}
          value={value}
          onInput={change}
        />
      );
      break;
    case 'boolean':
      control = (
        <select {...common} value={value} onChange={change}>
          <option value="">(not set)</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      );
      break;
    case 'choice':
      control = (
        <select {...common} value={value} onChange={change}>
          <option value="">(not set)</option>
          {field.options?.map((option, i) => (
            <option key={JSON.stringify(option)} value={String(i)}>
              {typeof option === 'string' ? option : JSON.stringify(option)}
            </option>
          ))}
        </select>
      );
      break;
    case 'multiline':
    case 'json':
      control = (
        <textarea
          {...common}
          rows={field.kind === 'json' ? 4 : 3}
          class={field.kind === 'json' ? 'code' : undefined}
          spellcheck={field.kind !== 'json'}
          value={value}
          onInput={change}
        />
      );
      break;
  }
  return (
    <div class="field">
      <label for={id}>
        {label}
        {field.required && (
          <span class="required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
        {field.kind === 'json' && field.name !== FREE_INPUT && <span class="muted"> (JSON)</span>}
      </label>
      {control}
      {field.description && (
        <p id={`${id}-help`} class="help">
          {field.description}
        </p>
      )}
      {errors.length > 0 && (
        <p id={`${id}-error`} class="field-error">
          {errors.join('; ')}
        </p>
      )}
    </div>
  );
}
