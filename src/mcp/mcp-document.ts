/**
 * The MCP document of DESIGN.md (REST API): the configuration without
 * secrets, health and breaker state. Header names keep their spelling and
 * their values become `***`; a stdio endpoint shows its command, never its
 * arguments or environment (either may carry a token).
 */
import type { BreakerSnapshot } from './endpoint-breaker.js';
import type { HealthSnapshot, MCPClient } from './mcp-client.js';
import type { McpSource } from './mcp-definition.js';
import { redactUrl } from './secrets.js';

/** One endpoint as shown. */
export interface EndpointDocument {
  name: string;
  protocol: 'http' | 'stdio';
  url?: string;
  command?: string;
  headers?: Record<string, '***'>;
  circuitBreaker: BreakerSnapshot;
}

/** An MCP as the API shows it. */
export interface McpDocument {
  name: string;
  displayName: string;
  version: string;
  status: 'active' | 'inactive';
  priority: number;
  source: McpSource;
  capabilities: string[];
  /** The registry's tool list, or null when it lists none. */
  tools: string[] | null;
  timeout: number;
  maxConcurrency: number;
  /** Protocol version the primary endpoint negotiated, once connected. */
  protocolVersion: string | null;
  endpoints: EndpointDocument[];
  health: HealthSnapshot;
  /** The primary endpoint's breaker. */
  circuitBreaker: BreakerSnapshot;
}

/** Builds the document of one client. */
export function toMcpDocument(client: MCPClient): McpDocument {
  const d = client.definition;
  const breakers = new Map(client.breakers().map((b) => [b.endpoint, b.breaker]));
  const endpoints: EndpointDocument[] = d.endpoints.map((e) => {
    const circuitBreaker = breakers.get(e.name) ?? { state: 'closed', failures: 0 };
    if (e.protocol === 'http') {
      const headers = Object.fromEntries(Object.keys(e.headers).map((k) => [k, '***' as const]));
      return { name: e.name, protocol: 'http', url: redactUrl(e.url), headers, circuitBreaker };
    }
    return { name: e.name, protocol: 'stdio', command: e.command, circuitBreaker };
  });
  return {
    name: d.name,
    displayName: d.displayName,
    version: d.version,
    status: d.status,
    priority: d.priority,
    source: d.source,
    capabilities: [...d.capabilities],
    tools: d.tools ? [...d.tools] : null,
    timeout: d.timeout,
    maxConcurrency: d.maxConcurrency,
    protocolVersion: client.protocolVersion ?? null,
    endpoints,
    health: { ...client.healthSnapshot },
    circuitBreaker: endpoints[0]?.circuitBreaker ?? { state: 'closed', failures: 0 },
  };
}
