/**
 * An MCP server as the orchestrator knows it, whichever discovery method
 * found it: normalised from the registry format of DESIGN.md (defaults
 * applied, endpoints in failover order, `${VAR}` already substituted).
 */

/** Where an MCP definition came from. */
export type McpSource = 'file' | 'env' | 'dns' | 'kubernetes' | 'multicast' | (string & {});

/** One way to reach an MCP server. */
export type EndpointDefinition = HttpEndpointDefinition | StdioEndpointDefinition;

/** Streamable HTTP at `url`. */
export interface HttpEndpointDefinition {
  name: string;
  protocol: 'http';
  url: string;
  /** Secret values: never shown, never logged. */
  headers: Record<string, string>;
}

/** A child process speaking MCP over stdin/stdout. */
export interface StdioEndpointDefinition {
  name: string;
  protocol: 'stdio';
  command: string;
  args: string[];
  /** Secret values: never shown, never logged. */
  env: Record<string, string>;
  cwd?: string;
}

/** Circuit breaker settings of each endpoint. */
export interface CircuitBreakerSettings {
  /** Consecutive failures that open the breaker (5). */
  failureThreshold: number;
  /** How long it stays open before a trial call, ms (30000). */
  resetTimeout: number;
}

/** Health check settings. */
export interface HealthCheckSettings {
  enabled: boolean;
  /** Path of a plain GET against the url's origin; absent: the protocol's own probe. */
  endpoint?: string;
  interval: number;
  timeout: number;
}

/** A normalised MCP definition. */
export interface McpDefinition {
  /** The registry key; steps refer to it. */
  name: string;
  displayName: string;
  version: string;
  status: 'active' | 'inactive';
  priority: number;
  source: McpSource;
  capabilities: string[];
  /** Tools the registry lists; undefined when it lists none. */
  tools?: string[];
  /** Primary first, then failovers in the order written. */
  endpoints: EndpointDefinition[];
  /** Default per-call timeout, ms (30000). */
  timeout: number;
  /** Calls in flight at once (32). */
  maxConcurrency: number;
  circuitBreaker: CircuitBreakerSettings;
  healthCheck: HealthCheckSettings;
  /** Canonical JSON of everything above but `source`: equal means unchanged. */
  fingerprint: string;
}
