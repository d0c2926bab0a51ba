/**
 * Reads `mcp-registry.json`: parse, substitute `${VAR}`, validate with ajv,
 * then normalise each entry into an {@link McpDefinition}. Every problem is
 * reported at once, each with its JSON path.
 */
import { Ajv } from 'ajv';
import {
  ajvErrorsToIssues,
  canonicalJson,
  ErrorCode,
  joinPath,
  OrchestratorError,
  type ValidationIssue,
} from '../engine/index.js';
import type { EndpointDefinition, McpDefinition, McpSource } from '../mcp/index.js';
import { substituteEnv } from './env-substitution.js';
import { registrySchema } from './registry-schema.js';

/** Defaults of registry entries (DESIGN.md, Registry). */
export const REGISTRY_DEFAULTS = {
  timeout: 30_000,
  maxConcurrency: 32,
  failureThreshold: 5,
  resetTimeout: 30_000,
  healthInterval: 30_000,
  healthTimeout: 5_000,
} as const;

/** One entry of the registry's `mcps` map, as written. */
export interface RegistryEntry {
  name?: string;
  version?: string;
  description?: string;
  status?: 'active' | 'inactive';
  priority?: number;
  endpoints: Record<
    string,
    {
      protocol: 'http' | 'streamable-http' | 'stdio';
      url?: string;
      headers?: Record<string, string>;
      command?: string;
      args?: string[];
      env?: Record<string, string>;
      cwd?: string;
    }
  >;
  capabilities?: string[];
  tools?: string[];
  timeout?: number;
  maxConcurrency?: number;
  circuitBreaker?: { failureThreshold?: number; resetTimeout?: number };
  healthCheck?: { enabled?: boolean; endpoint?: string; interval?: number; timeout?: number };
  metadata?: Record<string, unknown>;
}

/** Options of {@link parseRegistry}. */
export interface ParseRegistryOptions {
  /** Environment for `${VAR}`; defaults to none (every reference needs a default). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default health check interval (`HEALTH_CHECK_INTERVAL`). */
  healthCheckInterval?: number;
  /** Shown in messages, e.g. the file path. */
  source?: string;
}

const validate = new Ajv({ allErrors: true, strict: true }).compile(registrySchema);

/** Parses registry text; throws ORCH_REGISTRY_INVALID with every problem. */
export function parseRegistry(text: string, options: ParseRegistryOptions = {}): McpDefinition[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // V8 quotes a slice of the text around the error; a registry holds secrets, so only the position is told.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    const where =
      at === undefined
        ? /end of JSON/.test((error as Error).message)
          ? ' (it ends too early)'
          : ''
        : ` at position ${at}`;
    throw registryInvalid([{ path: '', message: `is not valid JSON${where}` }], options.source);
  }
  return registryFromObject(raw, options);
}

/** Validates and normalises an already-parsed registry document. */
export function registryFromObject(raw: unknown, options: ParseRegistryOptions = {}): McpDefinition[] {
  const substituted = substituteEnv(raw, options.env ?? {});
  // A missing variable is the cause; the schema errors at the same place are only its echo.
  const unset = new Set(substituted.issues.map((i) => i.path));
  if (!validate(substituted.value)) {
    const schemaIssues = ajvErrorsToIssues(validate.errors).filter((i) => !unset.has(i.path));
    throw registryInvalid([...substituted.issues, ...schemaIssues], options.source);
  }
  if (substituted.issues.length > 0) throw registryInvalid(substituted.issues, options.source);
  const document = substituted.value as { mcps: Record<string, RegistryEntry> };
  const issues: ValidationIssue[] = [];
  const definitions = Object.entries(document.mcps).map(([name, entry]) =>
    normalizeEntry(name, entry, 'file', issues, options.healthCheckInterval),
  );
  if (issues.length > 0) throw registryInvalid(issues, options.source);
  return definitions;
}

/**
 * Normalises one entry (also used by discovery methods other than the file).
 * Problems are appended to `issues` with paths below `mcps.<name>`.
 */
export function normalizeEntry(
  name: string,
  entry: RegistryEntry,
  source: McpSource,
  issues: ValidationIssue[],
  healthCheckInterval: number = REGISTRY_DEFAULTS.healthInterval,
): McpDefinition {
  const at = joinPath('mcps', name);
  const names = Object.keys(entry.endpoints);
  // `primary` first, then the failovers in the order written.
  const ordered = names.includes('primary') ? ['primary', ...names.filter((n) => n !== 'primary')] : names;
  const endpoints: EndpointDefinition[] = [];
  for (const endpointName of ordered) {
    const e = entry.endpoints[endpointName]!;
    const eAt = joinPath(joinPath(at, 'endpoints'), endpointName);
    if (e.protocol === 'stdio') {
      if (!e.command)
        issues.push({ path: joinPath(eAt, 'command'), message: 'is required for protocol stdio' });
      for (const field of ['url', 'headers'] as const) {
        if (e[field] !== undefined)
          issues.push({ path: joinPath(eAt, field), message: 'applies to protocol http only' });
      }
      const endpoint: EndpointDefinition = {
        name: endpointName,
        protocol: 'stdio',
        command: e.command ?? '',
        args: e.args ?? [],
        env: e.env ?? {},
      };
      if (e.cwd !== undefined) endpoint.cwd = e.cwd;
      endpoints.push(endpoint);
    } else {
      if (!e.url)
        issues.push({ path: joinPath(eAt, 'url'), message: `is required for protocol ${e.protocol}` });
      else if (!isHttpUrl(e.url))
        issues.push({ path: joinPath(eAt, 'url'), message: 'must be an http:// or https:// URL' });
      else if (hasCredentials(e.url)) {
        issues.push({
          path: joinPath(eAt, 'url'),
          message: 'must not carry credentials (user:password@); put them in headers',
        });
      }
      for (const field of ['command', 'args', 'env', 'cwd'] as const) {
        if (e[field] !== undefined)
          issues.push({ path: joinPath(eAt, field), message: 'applies to protocol stdio only' });
      }
      endpoints.push({ name: endpointName, protocol: 'http', url: e.url ?? '', headers: e.headers ?? {} });
    }
  }
  const definition: Omit<McpDefinition, 'fingerprint'> = {
    name,
    displayName: entry.name ?? name,
    version: entry.version ?? '',
    status: entry.status ?? 'active',
    priority: entry.priority ?? 0,
    source,
    capabilities: entry.capabilities ?? [],
    endpoints,
    timeout: entry.timeout ?? REGISTRY_DEFAULTS.timeout,
    maxConcurrency: entry.maxConcurrency ?? REGISTRY_DEFAULTS.maxConcurrency,
    circuitBreaker: {
      failureThreshold: entry.circuitBreaker?.failureThreshold ?? REGISTRY_DEFAULTS.failureThreshold,
      resetTimeout: entry.circuitBreaker?.resetTimeout ?? REGISTRY_DEFAULTS.resetTimeout,
    },
    healthCheck: {
      enabled: entry.healthCheck?.enabled ?? true,
      interval: entry.healthCheck?.interval ?? healthCheckInterval,
      timeout: entry.healthCheck?.timeout ?? REGISTRY_DEFAULTS.healthTimeout,
      ...(entry.healthCheck?.endpoint ? { endpoint: entry.healthCheck.endpoint } : {}),
    },
  };
  if (entry.tools) definition.tools = entry.tools;
  const { source: _source, ...identity } = definition;
  return { ...definition, fingerprint: canonicalJson(identity) };
}

/** Whether an http(s) URL carries `user:password@` (call after {@link isHttpUrl}). */
export function hasCredentials(value: string): boolean {
  const url = new URL(value);
  return url.username !== '' || url.password !== '';
}

/** Whether `value` parses as an http:// or https:// URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function registryInvalid(issues: ValidationIssue[], source = 'registry'): OrchestratorError {
  const first = issues[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new OrchestratorError(
    ErrorCode.RegistryInvalid,
    `invalid MCP registry ${source}: ${summary}${more}`,
    {
      errors: issues,
    },
  );
}
