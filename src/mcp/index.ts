/** The MCP client layer: protocol client, transports, resilience, health. */
export type { BreakerSnapshot, BreakerState } from './endpoint-breaker.js';
export type { ProtocolEra, ToolDescription } from './endpoint-connection.js';
export {
  type HealthSnapshot,
  MCPClient,
  type McpClientHooks,
  type McpClientOptions,
  type McpOutcome,
  type McpRequest,
  type McpResponse,
  type RequestInterceptor,
  type ResponseInterceptor,
  type ToolCallOptions,
} from './mcp-client.js';
export {
  type ApplyResult,
  type BreakerChangeEvent,
  McpClientPool,
  type McpClientPoolOptions,
  type McpHealthEvent,
  type McpPoolEventMap,
} from './mcp-client-pool.js';
export type {
  CircuitBreakerSettings,
  EndpointDefinition,
  HealthCheckSettings,
  HttpEndpointDefinition,
  McpDefinition,
  McpSource,
  StdioEndpointDefinition,
} from './mcp-definition.js';
export { type EndpointDocument, type McpDocument, toMcpDocument } from './mcp-document.js';
export { McpCallError, McpRemoteError } from './mcp-errors.js';
export { mapToolResult } from './result-mapping.js';
