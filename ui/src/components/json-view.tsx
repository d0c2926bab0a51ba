/**
 * JSON folded the way a reader opens it: `<details>` per object and array,
 * so it is keyboard-usable and read by screen readers without extra work.
 */

/** A labelled JSON value, folded unless `open`. */
export function JsonView({ label, value, open = false }: { label: string; value: unknown; open?: boolean }) {
  return (
    <details class="json" open={open}>
      <summary>
        {label} <span class="json-hint">{hint(value)}</span>
      </summary>
      <div class="json-body">
        <JsonValue value={value} depth={0} />
      </div>
    </details>
  );
}

function JsonValue({ value, depth }: { value: unknown; depth: number }) {
  if (value === null || typeof value !== 'object') return <Scalar value={value} />;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0) return <span class="json-punct">{Array.isArray(value) ? '[]' : '{}'}</span>;
  return (
    <ul class="json-entries">
      {entries.map(([key, child]) => (
        <li key={key}>
          {child !== null && typeof child === 'object' && Object.keys(child).length > 0 ? (
            // Nested values beyond the first level start folded: results can be large.
            <details open={depth < 1}>
              <summary>
                <span class="json-key">{key}</span> <span class="json-hint">{hint(child)}</span>
              </summary>
              <JsonValue value={child} depth={depth + 1} />
            </details>
          ) : (
            <>
              <span class="json-key">{key}</span>
              <span class="json-punct">: </span>
              <JsonValue value={child} depth={depth + 1} />
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function Scalar({ value }: { value: unknown }) {
  if (value === undefined) return <span class="json-null">none</span>;
  if (typeof value === 'string') return <span class="json-string">{JSON.stringify(value)}</span>;
  if (value === null) return <span class="json-null">null</span>;
  return <span class="json-literal">{String(value)}</span>;
}

function hint(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? '' : 's'}]`;
  if (value !== null && typeof value === 'object') {
    const n = Object.keys(value).length;
    return `{${n} key${n === 1 ? '' : 's'}}`;
  }
  if (value === undefined) return 'none';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
