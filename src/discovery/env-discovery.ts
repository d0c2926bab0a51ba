/**
 * The `env` discovery method: `MCP_<NAME>_URL` declares an MCP named
 * `<name>` (lower case, `_` -> `-`), with optional `MCP_<NAME>_PROTOCOL`
 * (`http` or `streamable-http`), `_TOOLS` and `_CAPABILITIES` (comma lists)
 * and `_HEADERS` (a JSON object of strings). The environment does not change
 * while the process runs, so there is nothing to watch.
 */
import { canonicalJson, ErrorCode, OrchestratorError, type ValidationIssue } from '../engine/index.js';
import type { McpDefinition } from '../mcp/index.js';
import type { DiscoveryMethod } from './discovery-method.js';
import { hasCredentials, isHttpUrl, type RegistryEntry } from './registry-loader.js';

type Env = Record<string, string | undefined>;

const URL_VARIABLE = /^MCP_([A-Z0-9][A-Z0-9_]*)_URL$/;
const PROTOCOLS = ['http', 'streamable-http'] as const;

/**
 * The MCPs the environment declares, by name. Throws ORCH_REGISTRY_INVALID
 * naming every variable that is wrong.
 */
export function mcpsFromEnv(env: Env): Record<string, RegistryEntry> {
  const entries: Record<string, RegistryEntry> = {};
  const issues: ValidationIssue[] = [];
  for (const variable of Object.keys(env).sort()) {
    const match = URL_VARIABLE.exec(variable);
    if (!match) continue;
    const key = match[1]!;
    const name = key.toLowerCase().replaceAll('_', '-');
    const prefix = `MCP_${key}_`;
    const problem = (suffix: string, message: string) => issues.push({ path: prefix + suffix, message });

    const url = env[variable]!.trim();
    if (!isHttpUrl(url)) problem('URL', `expected an http(s) URL, got '${url}'`);
    const protocol = (env[`${prefix}PROTOCOL`]?.trim() || 'http') as (typeof PROTOCOLS)[number];
    if (!PROTOCOLS.includes(protocol))
      problem('PROTOCOL', `expected one of ${PROTOCOLS.join(', ')}, got '${protocol}'`);

    const endpoint: RegistryEntry['endpoints'][string] = { protocol, url };
    const headers = env[`${prefix}HEADERS`];
    if (headers !== undefined && headers.trim() !== '') {
      const parsed = parseHeaders(headers);
      if (typeof parsed === 'string') problem('HEADERS', parsed);
      else endpoint.headers = parsed;
    }
    const entry: RegistryEntry = { endpoints: { primary: endpoint } };
    const tools = commaList(env[`${prefix}TOOLS`]);
    if (tools) entry.tools = tools;
    const capabilities = commaList(env[`${prefix}CAPABILITIES`]);
    if (capabilities) entry.capabilities = capabilities;
    entries[name] = entry;
  }
  if (issues.length > 0) {
    throw new OrchestratorError(
      ErrorCode.RegistryInvalid,
      issues.map((i) => `${i.path}: ${i.message}`).join('; '),
      { errors: issues },
    );
  }
  return entries;
}

/** Options of {@link EnvDiscovery}. */
export interface EnvDiscoveryOptions {
  /** The environment to read (process.env). */
  env?: Env;
}

/** Discovers MCPs from `MCP_<NAME>_URL` variables. */
export class EnvDiscovery implements DiscoveryMethod {
  readonly name = 'env';
  private readonly env: Env;

  constructor(options: EnvDiscoveryOptions = {}) {
    this.env = options.env ?? process.env;
  }

  discoverMcps(): Record<string, RegistryEntry> {
    return mcpsFromEnv(this.env);
  }

  /** `<NAME>_URL` (the seed's `MAIN_PLATFORM_URL`) replaces the primary url of an HTTP MCP named `<name>`. */
  adjust(definition: McpDefinition): McpDefinition {
    const variable = `${definition.name.toUpperCase().replace(/[-.]/g, '_')}_URL`;
    const url = this.env[variable]?.trim();
    const primary = definition.endpoints[0];
    if (!url || !primary || primary.protocol === 'stdio' || primary.url === url) return definition;
    // The registry's own rules for a url: http(s), and no credentials in it (they would show).
    const problem = !isHttpUrl(url)
      ? `expected an http(s) URL, got '${url}'`
      : hasCredentials(url)
        ? 'must not carry credentials (user:password@); put them in headers'
        : undefined;
    if (problem) {
      throw new OrchestratorError(ErrorCode.RegistryInvalid, `${variable}: ${problem}`, {
        errors: [{ path: variable, message: problem }],
      });
    }
    const { source, fingerprint: _fingerprint, ...identity } = definition;
    const adjusted = { ...identity, endpoints: [{ ...primary, url }, ...definition.endpoints.slice(1)] };
    return { ...adjusted, source, fingerprint: canonicalJson(adjusted) };
  }
}

function commaList(value: string | undefined): string[] | undefined {
  const items = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}

/** The headers, or what is wrong with them. */
function parseHeaders(text: string): Record<string, string> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'expected a JSON object of header names to strings, got invalid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'expected a JSON object of header names to strings';
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') return `expected a string for header '${name}'`;
  }
  return value as Record<string, string>;
}
