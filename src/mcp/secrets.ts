/**
 * Secrets of an MCP definition and their removal from anything shown:
 * header values, stdio arguments and environment values, and the values of
 * a URL's query string (some servers take keys there).
 */
import type { McpDefinition } from './mcp-definition.js';

/** The values never to show. Short values are left alone: masking "1" would garble every message. */
export function secretsOf(definition: McpDefinition): string[] {
  const values: string[] = [];
  for (const endpoint of definition.endpoints) {
    if (endpoint.protocol === 'http') {
      values.push(...Object.values(endpoint.headers));
      try {
        for (const [, value] of new URL(endpoint.url).searchParams) values.push(value);
      } catch {}
    } else {
      values.push(
        ...Object.values(endpoint.env),
        ...endpoint.args.filter((a) => /token|key|secret|password|=/i.test(a)),
      );
    }
  }
  return [...new Set(values.filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

/** A URL with its query values masked, for display. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.search) return url;
    for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, '***');
    return parsed.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    return url;
  }
}
