/**
 * SEP-2243 parameter headers of the 2026-07-28 era: a tool's inputSchema may
 * mark primitive properties with `x-mcp-header: <Name>`, and the client then
 * mirrors their values into `Mcp-Param-<Name>` headers, which servers check.
 * Values outside printable ASCII (or empty, or padded) travel base64-encoded
 * as `=?base64?...?=`, as the SDK encodes them; the same rule applies to
 * `Mcp-Name`.
 */

interface Declaration {
  path: string[];
  header: string;
}

const PRIMITIVE = new Set(['string', 'integer', 'boolean', 'number']);
const declarationsCache = new WeakMap<object, Declaration[]>();

/** The `x-mcp-header` declarations reachable through `properties` chains. */
export function headerDeclarations(schema: Record<string, unknown> | undefined): Declaration[] {
  if (!schema) return [];
  const cached = declarationsCache.get(schema);
  if (cached) return cached;
  const found: Declaration[] = [];
  const visit = (node: unknown, path: string[]) => {
    if (node === null || typeof node !== 'object') return;
    const s = node as Record<string, unknown>;
    const header = s['x-mcp-header'];
    if (path.length > 0 && typeof header === 'string' && header && PRIMITIVE.has(String(s.type))) {
      found.push({ path, header });
    }
    const properties = s.properties;
    if (properties && typeof properties === 'object') {
      for (const [key, child] of Object.entries(properties)) visit(child, [...path, key]);
    }
  };
  visit(schema, []);
  declarationsCache.set(schema, found);
  return found;
}

/** `Mcp-Param-*` headers for arguments, per the tool's declarations. */
export function paramHeaders(
  schema: Record<string, unknown> | undefined,
  args: Record<string, unknown>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { path, header } of headerDeclarations(schema)) {
    let value: unknown = args;
    for (const key of path)
      value =
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (value === undefined || value === null) continue;
    const text =
      typeof value === 'string'
        ? value
        : typeof value === 'boolean'
          ? String(value)
          : Number.isFinite(value)
            ? String(value)
            : undefined;
    if (text !== undefined) out[`mcp-param-${header.toLowerCase()}`] = encodeHeaderValue(text);
  }
  return out;
}

/** A header value as the SDK sends it: as is when plain printable ASCII, else base64 in a sentinel. */
export function encodeHeaderValue(value: string): string {
  const plain =
    value.length > 0 &&
    value === value.trim() &&
    !(value.startsWith('=?base64?') && value.endsWith('?=')) &&
    /^[\t\x20-\x7e]*$/.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
