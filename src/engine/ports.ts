/**
 * The ports the engine needs from the outside world. The engine does no I/O
 * of its own: the MCP layer implements {@link StepCaller} and
 * {@link McpLookup}, `store/` implements the execution store, and `main.ts`
 * wires them.
 */

/** One attempt of a step (or of its compensation) to call a tool. */
export interface StepCallRequest {
  executionId: string;
  workflow: { name: string; version: string };
  step: string;
  /** MCP by name; absent when the step routes by `capability`. */
  mcp?: string;
  capability?: string;
  /** The tool name. */
  tool: string;
  /** Arguments, expressions already evaluated. */
  params: Record<string, unknown>;
  /** `<executionId>:<step>` (or `<executionId>:<step>:compensation`), identical on every attempt. */
  idempotencyKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Per-attempt timeout the engine enforces, ms. */
  timeoutMs: number;
  /** True for a compensation call. */
  compensation: boolean;
}

/**
 * Calls a tool. Resolves with the mapped step result (DESIGN.md, MCP) or
 * rejects; rejections should be {@link OrchestratorError}s whose code tells
 * whether a retry can help. Must stop promptly when `signal` aborts.
 */
export interface StepCaller {
  call(request: StepCallRequest, signal: AbortSignal): Promise<unknown>;
  /**
   * The per-attempt timeout of a target whose step sets none (an MCP's
   * registry `timeout`); undefined lets the engine default apply.
   */
  defaultTimeoutMs?(target: { mcp?: string; capability?: string }): number | undefined;
}

/** What registration needs to know of an MCP. */
export interface McpInfo {
  name: string;
  /** `inactive` MCPs are known but never called. */
  status: 'active' | 'inactive';
  /** Tools the MCP lists, when known; `undefined` means "not listed, do not check". */
  tools?: ReadonlyArray<{ name: string; inputSchema?: Record<string, unknown> }>;
}

/** Lets registration check MCPs, tools and capabilities. */
export interface McpLookup {
  getMcp(name: string): McpInfo | undefined | Promise<McpInfo | undefined>;
  hasCapability(capability: string): boolean | Promise<boolean>;
  /** For `getMetrics().healthyMcpClients`. */
  countHealthy?(): number;
}

/** Time, injectable for tests. Timers are the platform's (cockatiel uses them; fake timers replace them). */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
