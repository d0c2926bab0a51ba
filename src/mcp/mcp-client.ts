/**
 * The client of one MCP server (DESIGN.md, MCP and Resilience): its
 * endpoints in failover order, each with its own circuit breaker; a
 * concurrency limit (`maxConcurrency`) over all of them; the tool list cache;
 * health; request and response interceptors.
 */
import { BrokenCircuitError, type BulkheadPolicy, bulkhead } from 'cockatiel';
import { canonicalJson, checkToolArguments, ErrorCode, OrchestratorError } from '../engine/index.js';
import { withDeadline } from './abort.js';
import { type BreakerSnapshot, type BreakerState, EndpointBreaker } from './endpoint-breaker.js';
import type { EndpointConnection, ToolDescription, ToolList, WireAnswer } from './endpoint-connection.js';
import { HttpConnection } from './http-connection.js';
import type { EndpointDefinition, McpDefinition } from './mcp-definition.js';
import { classifyError, countsAgainstBreaker, McpRemoteError } from './mcp-errors.js';
import { mapToolResult } from './result-mapping.js';
import { scrub, secretsOf } from './secrets.js';
import { StdioConnection } from './stdio-connection.js';

/** A `tools/call` as request interceptors see (and may change) it. */
export interface McpRequest {
  mcp: string;
  tool: string;
  arguments: Record<string, unknown>;
  meta: Record<string, unknown>;
}

/** The outcome of a call, as response interceptors and metrics see it. */
export interface McpResponse {
  mcp: string;
  tool: string;
  endpoint: string | undefined;
  outcome: McpOutcome;
  durationMs: number;
  result?: unknown;
  error?: OrchestratorError;
}

/** How a call ended, the `outcome` label of `orchestrator_mcp_requests_total`. */
export type McpOutcome = 'success' | 'tool_error' | 'error' | 'timeout' | 'circuit_open' | 'cancelled';

/** Changes a request before it is sent; return nothing to keep it (the seed's `async (request) => log(request)` works). */
// biome-ignore lint/suspicious/noConfusingVoidType: interceptors that only observe return nothing at all.
export type RequestInterceptor = (request: McpRequest) => McpRequest | void | Promise<McpRequest | void>;
/** Observes a response. */
export type ResponseInterceptor = (response: McpResponse) => void | Promise<void>;

/** Health as the API shows it. */
export interface HealthSnapshot {
  status: 'healthy' | 'unhealthy' | 'unknown';
  checkedAt: string | null;
  latencyMs: number | null;
  error?: string;
}

/** Callbacks of a client into its pool. */
export interface McpClientHooks {
  onBreakerStateChange?(mcp: string, endpoint: string, previous: BreakerState, next: BreakerState): void;
  onResponse?(response: McpResponse): void;
  onToolsChanged?(mcp: string): void;
  onLog?(level: 'info' | 'warn', message: string): void;
}

/** Options of {@link MCPClient}. */
export interface McpClientOptions {
  definition: McpDefinition;
  hooks?: McpClientHooks;
  /** Limit of a connection handshake, ms (10000). */
  connectTimeoutMs?: number;
  /** How long a tool list without a server TTL stays cached, ms (300000); `list_changed` clears it. */
  toolsCacheMs?: number;
  now?: () => number;
}

/** Options of {@link MCPClient.callTool}. */
export interface ToolCallOptions {
  signal?: AbortSignal;
  /** Per-call limit, ms; defaults to the MCP's `timeout`. */
  timeoutMs?: number;
  /** Extra `_meta` (idempotency key, trace context). */
  meta?: Record<string, unknown>;
  /**
   * True when `signal` itself aborts with ORCH_STEP_TIMEOUT at `timeoutMs`
   * (the engine's per-attempt timeout does): the client then sets no timer
   * of its own, one less per call on the hot path.
   */
  signalHasDeadline?: boolean;
}

interface Endpoint {
  definition: EndpointDefinition;
  connection: EndpointConnection;
  breaker: EndpointBreaker;
}

const neverAborted = new AbortController().signal;

/** One MCP server. */
export class MCPClient {
  #definition: McpDefinition;
  private readonly endpoints: Endpoint[];
  private readonly limit: BulkheadPolicy;
  private readonly requestInterceptors: RequestInterceptor[] = [];
  private readonly responseInterceptors: ResponseInterceptor[] = [];
  private readonly hooks: McpClientHooks;
  private readonly now: () => number;
  private tools: { list: ToolList; expiresAt: number } | undefined;
  /** The last tool list seen, stale or not, until \`list_changed\`: what calls are checked against. */
  private knownTools: Map<string, ToolDescription> | undefined;
  private toolsLoading: Promise<ToolList> | undefined;
  private health: HealthSnapshot = { status: 'unknown', checkedAt: null, latencyMs: null };
  private healthCheckInFlight: Promise<HealthSnapshot> | undefined;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly secrets: string[];
  private closed = false;

  constructor(private readonly options: McpClientOptions) {
    this.#definition = options.definition;
    this.hooks = options.hooks ?? {};
    this.now = options.now ?? Date.now;
    this.limit = bulkhead(options.definition.maxConcurrency, Number.POSITIVE_INFINITY);
    this.secrets = secretsOf(options.definition);
    this.endpoints = options.definition.endpoints.map((definition) => this.endpoint(definition));
  }

  get definition(): McpDefinition {
    return this.#definition;
  }

  get name(): string {
    return this.#definition.name;
  }

  /**
   * Takes a definition that differs from the current one in `status` only
   * (an endpoint turning ready or not, in Kubernetes): the client, its
   * connections and its breakers stay. False, and nothing changes, for any
   * other difference, which needs a new client.
   */
  restate(definition: McpDefinition): boolean {
    const { source: _a, fingerprint: _b, ...current } = this.#definition;
    if (definition.name !== current.name) return false;
    if (canonicalJson({ ...current, status: definition.status }) !== definition.fingerprint) return false;
    this.#definition = definition;
    return true;
  }

  /** Calls in flight right now. */
  get activeCalls(): number {
    return this.inFlight;
  }

  /** Resolves once no call is in flight, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.idleWaiters.push(done);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  addRequestInterceptor(interceptor: RequestInterceptor): void {
    this.requestInterceptors.push(interceptor);
  }

  addResponseInterceptor(interceptor: ResponseInterceptor): void {
    this.responseInterceptors.push(interceptor);
  }

  /**
   * Calls a tool and returns the step result (DESIGN.md, MCP). Rejects with
   * an {@link OrchestratorError}: ORCH_TOOL_ERROR for `isError`,
   * ORCH_CIRCUIT_OPEN when every endpoint's breaker is open, and so on.
   */
  async callTool(
    tool: string,
    args: Record<string, unknown> = {},
    options: ToolCallOptions = {},
  ): Promise<unknown> {
    const signal = options.signal ?? neverAborted;
    const started = this.now();
    let request: McpRequest = { mcp: this.name, tool, arguments: args, meta: { ...options.meta } };
    for (const interceptor of this.requestInterceptors) request = (await interceptor(request)) ?? request;
    const response: McpResponse = {
      mcp: this.name,
      tool: request.tool,
      endpoint: undefined,
      outcome: 'success',
      durationMs: 0,
    };
    let counted = false;
    let deadline: { signal: AbortSignal; dispose(): void } | undefined;
    try {
      if (this.definition.status === 'inactive') {
        throw new OrchestratorError(ErrorCode.McpUnavailable, `MCP '${this.name}' is inactive`);
      }
      await this.checkArguments(request);
      this.inFlight += 1;
      counted = true;
      // The call's own deadline, so direct users of the client get the MCP's timeout too.
      const timeoutMs = options.timeoutMs ?? this.definition.timeout;
      if (!options.signalHasDeadline)
        deadline = withDeadline(
          signal,
          timeoutMs,
          () =>
            new OrchestratorError(
              ErrorCode.StepTimeout,
              `call of tool '${request.tool}' timed out after ${timeoutMs} ms`,
            ),
        );
      const bounded = deadline?.signal ?? signal;
      const answer = await this.limit.execute(
        () => this.send(request, bounded, timeoutMs, response),
        bounded,
      );
      if (answer.kind === 'error')
        throw new McpRemoteError(answer.error, { mcp: this.name, endpoint: response.endpoint ?? '', tool });
      const result = mapToolResult(answer.result, { mcp: this.name, tool: request.tool });
      response.result = result;
      return result;
    } catch (error) {
      const classified = classifyError(
        error,
        { mcp: this.name, endpoint: response.endpoint ?? '', tool },
        deadline?.signal ?? signal,
      );
      // Nothing shown may carry a header value, a key in a URL, or a stdio token.
      classified.message = scrub(classified.message, this.secrets);
      response.error = classified;
      response.outcome = outcomeOf(classified, signal);
      throw classified;
    } finally {
      if (counted) {
        this.inFlight -= 1;
        if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      }
      deadline?.dispose();
      response.durationMs = this.now() - started;
      this.hooks.onResponse?.(response);
      for (const interceptor of this.responseInterceptors)
        await Promise.resolve(interceptor(response)).catch(() => undefined);
    }
  }

  /** Every tool the server lists (all pages), cached per the server's `ttlMs` and cleared by `list_changed`. */
  async listTools(signal?: AbortSignal): Promise<ToolDescription[]> {
    if (this.tools && this.tools.expiresAt > this.now()) return this.tools.list.tools;
    this.toolsLoading ??= this.loadTools(signal).finally(() => {
      this.toolsLoading = undefined;
    });
    return (await this.toolsLoading).tools;
  }

  /** Checks health now: the registry's plain GET, else the protocol's probe, on each endpoint until one answers. */
  checkHealth(): Promise<HealthSnapshot> {
    // One check at a time: the periodic check and any number of "check now" requests share it,
    // so a burst of clicks or scrapes is one probe at the server, not one each.
    this.healthCheckInFlight ??= this.probeHealth().finally(() => {
      this.healthCheckInFlight = undefined;
    });
    return this.healthCheckInFlight;
  }

  private async probeHealth(): Promise<HealthSnapshot> {
    const { healthCheck } = this.definition;
    const started = this.now();
    let lastError = 'no endpoint';
    for (const endpoint of this.endpoints) {
      const controller = new AbortController();
      const timer = setTimeout(
        () =>
          controller.abort(
            new OrchestratorError(
              ErrorCode.StepTimeout,
              `health check timed out after ${healthCheck.timeout} ms`,
            ),
          ),
        healthCheck.timeout,
      );
      try {
        if (healthCheck.endpoint && endpoint.connection instanceof HttpConnection) {
          const status = await endpoint.connection.getStatus(healthCheck.endpoint, controller.signal);
          if (status < 200 || status >= 300)
            throw new Error(`GET ${healthCheck.endpoint} answered HTTP ${status}`);
        } else {
          await endpoint.connection.probe(controller.signal);
        }
        this.health = {
          status: 'healthy',
          checkedAt: new Date(this.now()).toISOString(),
          latencyMs: this.now() - started,
        };
        return this.health;
      } catch (error) {
        const e = controller.signal.aborted ? controller.signal.reason : error;
        lastError = `${endpoint.definition.name}: ${scrub((e as Error).message, this.secrets)}`;
      } finally {
        clearTimeout(timer);
      }
    }
    this.health = {
      status: 'unhealthy',
      checkedAt: new Date(this.now()).toISOString(),
      latencyMs: this.now() - started,
      error: lastError,
    };
    return this.health;
  }

  /** The last health result. */
  get healthSnapshot(): HealthSnapshot {
    return this.health;
  }

  /** Breaker of each endpoint, primary first. */
  breakers(): { endpoint: string; breaker: BreakerSnapshot }[] {
    return this.endpoints.map((e) => ({ endpoint: e.definition.name, breaker: e.breaker.snapshot() }));
  }

  /** Closes every endpoint's breaker. */
  resetCircuitBreakers(): void {
    for (const e of this.endpoints) e.breaker.reset();
  }

  /** Whether every endpoint's breaker refuses calls right now. */
  get allBreakersOpen(): boolean {
    return this.endpoints.every((e) => e.breaker.isOpen);
  }

  /** The protocol version the primary endpoint negotiated, once connected. */
  get protocolVersion(): string | undefined {
    return this.endpoints[0]?.connection.protocolVersion;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.endpoints) e.breaker.dispose();
    await Promise.all(this.endpoints.map((e) => e.connection.close()));
  }

  private async send(
    request: McpRequest,
    signal: AbortSignal,
    timeoutMs: number,
    response: McpResponse,
  ): Promise<WireAnswer> {
    let lastOpen: unknown;
    for (const [i, endpoint] of this.endpoints.entries()) {
      const isLast = i === this.endpoints.length - 1;
      // Failover: a later endpoint is used while the ones before it are open, or half-open
      // with their one trial call under way.
      if ((endpoint.breaker.isOpen || endpoint.breaker.state === 'half-open') && !isLast) continue;
      response.endpoint = endpoint.definition.name;
      try {
        return await endpoint.breaker.execute(
          (s) =>
            endpoint.connection.callTool(request.tool, request.arguments, {
              signal: s,
              meta: request.meta,
              timeoutMs,
              toolSchema: this.knownTools?.get(request.tool)?.inputSchema,
            }),
          signal,
        );
      } catch (error) {
        if (!(error instanceof BrokenCircuitError)) throw error;
        lastOpen = error;
        if (isLast) break;
      }
    }
    throw new OrchestratorError(
      ErrorCode.CircuitOpen,
      `circuit breaker of MCP '${this.name}' is open; call refused`,
      {
        cause: lastOpen,
      },
    );
  }

  /**
   * With a known tool list, an unknown tool or arguments that break its
   * inputSchema fail here, as errors no retry can mend, without a request.
   * An unknown name first refreshes the list: the server may have added it.
   */
  private async checkArguments(request: McpRequest): Promise<void> {
    if (!this.knownTools) return;
    let tool = this.knownTools.get(request.tool);
    if (!tool) {
      this.tools = undefined;
      await this.listTools().catch(() => undefined);
      tool = this.knownTools?.get(request.tool);
      if (!tool && this.knownTools) {
        throw new OrchestratorError(
          ErrorCode.UnknownTool,
          `MCP '${this.name}' has no tool '${request.tool}'`,
        );
      }
    }
    if (!tool?.inputSchema) return;
    const issues = checkToolArguments(tool.inputSchema, request.arguments);
    if (issues.length > 0) {
      const first = issues[0]!;
      throw new OrchestratorError(
        ErrorCode.InvalidParams,
        `arguments of tool '${request.tool}' (MCP '${this.name}') do not match its inputSchema: ${first.path}: ${first.message}`,
        { errors: issues },
      );
    }
  }

  private async loadTools(signal?: AbortSignal): Promise<ToolList> {
    let lastError: unknown;
    for (const endpoint of this.endpoints) {
      try {
        const list = await endpoint.connection.listTools(signal);
        const ttl =
          list.ttlMs !== undefined && list.ttlMs > 0
            ? list.ttlMs
            : list.ttlMs === 0
              ? 0
              : (this.options.toolsCacheMs ?? 300_000);
        this.tools = { list, expiresAt: this.now() + ttl };
        this.knownTools = new Map(list.tools.map((t) => [t.name, t]));
        return list;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  private endpoint(definition: EndpointDefinition): Endpoint {
    const hooks = {
      onToolsChanged: () => {
        this.tools = undefined;
        this.knownTools = undefined;
        this.hooks.onToolsChanged?.(this.name);
      },
      onLog: (level: 'info' | 'warn', message: string) => this.hooks.onLog?.(level, message),
    };
    const connectTimeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const connection: EndpointConnection =
      definition.protocol === 'http'
        ? new HttpConnection({
            mcp: this.name,
            endpoint: definition,
            hooks,
            connections: this.definition.maxConcurrency,
            connectTimeoutMs,
          })
        : new StdioConnection({ mcp: this.name, endpoint: definition, hooks, connectTimeoutMs });
    const breaker = new EndpointBreaker({
      settings: this.definition.circuitBreaker,
      countsAsFailure: countsAgainstBreaker,
      onStateChange: (previous, next) =>
        this.hooks.onBreakerStateChange?.(this.name, definition.name, previous, next),
      now: this.now,
    });
    return { definition, connection, breaker };
  }
}

function outcomeOf(error: OrchestratorError, signal: AbortSignal): McpOutcome {
  switch (error.code) {
    case ErrorCode.ToolError:
      return 'tool_error';
    case ErrorCode.StepTimeout:
      return 'timeout';
    case ErrorCode.CircuitOpen:
      return 'circuit_open';
    case ErrorCode.Cancelled:
    case ErrorCode.WorkflowTimeout:
      return 'cancelled';
    default:
      return signal.aborted ? 'cancelled' : 'error';
  }
}
