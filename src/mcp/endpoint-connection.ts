/**
 * The contract between an MCP client and one of its endpoints, whatever the
 * transport. Transport failures reject; anything the server answered
 * (a result, or a JSON-RPC error) resolves, so the circuit breaker above can
 * tell an unwell endpoint from a wrong request.
 */
import type { JsonRpcErrorObject } from './mcp-errors.js';
import type { ToolResultLike } from './result-mapping.js';

/** What the server answered to `tools/call`. */
export type WireAnswer =
  | { kind: 'result'; result: ToolResultLike }
  | { kind: 'error'; error: JsonRpcErrorObject };

/** A tool as `tools/list` describes it. */
export interface ToolDescription {
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
}

/** A `tools/list` answer, all pages. */
export interface ToolList {
  tools: ToolDescription[];
  /** How long the server says the list stays fresh, when it says. */
  ttlMs?: number;
}

/** Options of one `tools/call`. */
export interface CallToolOptions {
  signal: AbortSignal;
  /** `_meta` of the request: idempotency key, trace context. */
  meta: Record<string, unknown>;
  /** The caller's deadline for this call, ms; transports set their own limits a little beyond it. */
  timeoutMs: number;
  /** The tool's inputSchema when known (for SEP-2243 parameter headers). */
  toolSchema?: Record<string, unknown> | undefined;
}

/** Protocol era an endpoint speaks, once connected. */
export type ProtocolEra = 'modern' | 'legacy';

/** One connected (or connectable) endpoint. */
export interface EndpointConnection {
  readonly era: ProtocolEra | undefined;
  /** Negotiated protocol version, once connected. */
  readonly protocolVersion: string | undefined;
  callTool(name: string, args: Record<string, unknown>, options: CallToolOptions): Promise<WireAnswer>;
  listTools(signal?: AbortSignal): Promise<ToolList>;
  /** The protocol's own health probe: `server/discover` (modern) or `ping` (legacy). */
  probe(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Hooks a connection calls back into its client. */
export interface ConnectionHooks {
  /** The server said its tool list changed. */
  onToolsChanged(): void;
  /** Diagnostic lines (a stdio server's stderr, reconnects). */
  onLog?(level: 'info' | 'warn', message: string): void;
}
