/**
 * Every MCP client, kept in step with the merged discovery view, and the
 * engine's two ports on top of them: the step caller (routing by MCP name or
 * by capability) and the MCP lookup used at workflow registration. Health
 * checks run here on each MCP's interval.
 */
import { EventEmitter } from 'node:events';
import {
  ErrorCode,
  type McpInfo,
  type McpLookup,
  OrchestratorError,
  type StepCaller,
  type StepCallRequest,
} from '../engine/index.js';
import type { BreakerState } from './endpoint-breaker.js';
import { type HealthSnapshot, MCPClient, type McpResponse } from './mcp-client.js';
import type { McpDefinition } from './mcp-definition.js';
import { traceparentFor } from './trace-context.js';

/** A breaker of one endpoint changed state. */
export interface BreakerChangeEvent {
  mcp: string;
  endpoint: string;
  previous: BreakerState;
  state: BreakerState;
  timestamp: string;
}

/** An MCP's health changed (or was first known). */
export interface McpHealthEvent {
  mcp: string;
  health: HealthSnapshot;
  timestamp: string;
}

/** Events of the pool. */
export interface McpPoolEventMap {
  circuit_breaker_state_change: [BreakerChangeEvent];
  mcp_healthy: [McpHealthEvent];
  mcp_unhealthy: [McpHealthEvent];
  /** Every finished call, for metrics and logs. */
  mcp_request: [McpResponse];
  mcp_tools_changed: [{ mcp: string; timestamp: string }];
  mcp_log: [{ level: 'info' | 'warn'; message: string }];
}

/** Options of {@link McpClientPool}. */
export interface McpClientPoolOptions {
  /** Run periodic health checks (true). */
  healthChecks?: boolean;
  connectTimeoutMs?: number;
  toolsCacheMs?: number;
  /** How long registration waits for a server's tool list before skipping the check, ms (3000). */
  toolLookupTimeoutMs?: number;
  now?: () => number;
}

/** What {@link McpClientPool.apply} changed. */
export interface ApplyResult {
  added: string[];
  removed: string[];
  updated: string[];
}

/** The MCP clients, by name. */
export class McpClientPool extends EventEmitter<McpPoolEventMap> implements StepCaller, McpLookup {
  private readonly clients = new Map<string, MCPClient>();
  /** Health checks running, by client: concurrent requests for one share it. */
  private readonly healthChecks = new Map<MCPClient, Promise<HealthSnapshot>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Replaced or removed clients finishing their calls in flight. */
  private readonly draining = new Set<MCPClient>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: McpClientPoolOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
  }

  /**
   * Brings the pool in line with `definitions`: new MCPs get a client,
   * missing ones are closed, changed ones are replaced; an unchanged MCP
   * keeps its client, connections and breaker state, and so does one whose
   * status alone changed (a Kubernetes endpoint turning ready or not should
   * not reset its breaker or drop its connections).
   */
  apply(definitions: readonly McpDefinition[]): ApplyResult {
    const result: ApplyResult = { added: [], removed: [], updated: [] };
    const wanted = new Map(definitions.map((d) => [d.name, d]));
    for (const [name, client] of this.clients) {
      if (!wanted.has(name)) {
        this.drop(name, client);
        result.removed.push(name);
      }
    }
    for (const definition of definitions) {
      const existing = this.clients.get(definition.name);
      if (existing && existing.definition.fingerprint === definition.fingerprint) continue;
      if (existing?.restate(definition)) {
        this.scheduleHealthChecks(definition);
        result.updated.push(definition.name);
        continue;
      }
      if (existing) {
        this.drop(definition.name, existing);
        result.updated.push(definition.name);
      } else {
        result.added.push(definition.name);
      }
      this.add(definition);
    }
    return result;
  }

  get(name: string): MCPClient | undefined {
    return this.clients.get(name);
  }

  list(): MCPClient[] {
    return [...this.clients.values()];
  }

  /** Active MCPs offering a capability: healthy first, then by priority (highest first), then name. */
  byCapability(capability: string): MCPClient[] {
    const rank = (c: MCPClient) =>
      c.healthSnapshot.status === 'healthy' ? 0 : c.healthSnapshot.status === 'unknown' ? 1 : 2;
    return this.list()
      .filter((c) => c.definition.status === 'active' && c.definition.capabilities.includes(capability))
      .sort(
        (a, b) =>
          rank(a) - rank(b) || b.definition.priority - a.definition.priority || a.name.localeCompare(b.name),
      );
  }

  /** StepCaller: one attempt of a step or compensation. */
  async call(request: StepCallRequest, signal: AbortSignal): Promise<unknown> {
    const client = this.resolve(request);
    return client.callTool(request.tool, request.params, {
      signal,
      timeoutMs: request.timeoutMs,
      // The engine aborts `signal` with ORCH_STEP_TIMEOUT after `timeoutMs`.
      signalHasDeadline: true,
      meta: { idempotencyKey: request.idempotencyKey, traceparent: traceparentFor(request.executionId) },
    });
  }

  /** StepCaller: the registry `timeout` of the MCP a step targets. */
  defaultTimeoutMs(target: { mcp?: string; capability?: string }): number | undefined {
    if (target.mcp) return this.clients.get(target.mcp)?.definition.timeout;
    return target.capability ? this.byCapability(target.capability)[0]?.definition.timeout : undefined;
  }

  /**
   * McpLookup: what registration checks. Tools come from the registry when
   * it lists them, else from the server's `tools/list`; a server that does
   * not answer in time leaves tools unchecked rather than blocking.
   */
  async getMcp(name: string): Promise<McpInfo | undefined> {
    const client = this.clients.get(name);
    if (!client) return undefined;
    const info: McpInfo = { name, status: client.definition.status };
    const served = await this.serverTools(client);
    const listed = client.definition.tools;
    if (listed) {
      info.tools = listed.map((tool) => {
        const schema = served?.find((t) => t.name === tool)?.inputSchema;
        return schema ? { name: tool, inputSchema: schema } : { name: tool };
      });
    } else if (served) {
      info.tools = served;
    }
    return info;
  }

  /** McpLookup */
  hasCapability(capability: string): boolean {
    return this.byCapability(capability).length > 0;
  }

  /** McpLookup: MCPs whose last health check passed. */
  countHealthy(): number {
    return this.list().filter((c) => c.healthSnapshot.status === 'healthy').length;
  }

  /**
   * Checks one MCP's health now, emitting `mcp_healthy` / `mcp_unhealthy` on
   * a change. Checks asked for while one runs share it (and its one event).
   */
  checkHealth(name: string): Promise<HealthSnapshot | undefined> {
    const client = this.clients.get(name);
    if (!client) return Promise.resolve(undefined);
    let running = this.healthChecks.get(client);
    if (!running) {
      running = this.checkAndAnnounce(name, client).finally(() => this.healthChecks.delete(client));
      this.healthChecks.set(client, running);
    }
    return running;
  }

  private async checkAndAnnounce(name: string, client: MCPClient): Promise<HealthSnapshot> {
    const before = client.healthSnapshot.status;
    const health = await client.checkHealth();
    if (this.clients.get(name) !== client) return health;
    if (health.status !== before) {
      const event: McpHealthEvent = { mcp: name, health, timestamp: this.iso() };
      this.emit(health.status === 'healthy' ? 'mcp_healthy' : 'mcp_unhealthy', event);
    }
    return health;
  }

  /** Closes every breaker of an MCP; false for an unknown name. */
  resetCircuitBreaker(name: string): boolean {
    const client = this.clients.get(name);
    if (!client) return false;
    client.resetCircuitBreakers();
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
    const clients = [...this.list(), ...this.draining];
    this.clients.clear();
    this.draining.clear();
    await Promise.all(clients.map((c) => c.close()));
  }

  private resolve(request: StepCallRequest): MCPClient {
    if (request.mcp !== undefined) {
      const client = this.clients.get(request.mcp);
      if (!client)
        throw new OrchestratorError(ErrorCode.McpUnavailable, `MCP '${request.mcp}' is not registered`);
      return client;
    }
    const candidates = this.byCapability(request.capability ?? '');
    if (candidates.length === 0) {
      throw new OrchestratorError(
        ErrorCode.McpUnavailable,
        `no active MCP offers capability '${request.capability}'`,
      );
    }
    // Prefer one that would take the call; if all refuse, the first answers with its open breaker.
    return candidates.find((c) => !c.allBreakersOpen) ?? candidates[0]!;
  }

  private async serverTools(client: MCPClient): Promise<McpInfo['tools'] | undefined> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.toolLookupTimeoutMs ?? 3000);
    try {
      const tools = await client.listTools(controller.signal);
      return tools.map((t) =>
        t.inputSchema ? { name: t.name, inputSchema: t.inputSchema } : { name: t.name },
      );
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private add(definition: McpDefinition): void {
    const client = new MCPClient({
      definition,
      ...(this.options.connectTimeoutMs !== undefined
        ? { connectTimeoutMs: this.options.connectTimeoutMs }
        : {}),
      ...(this.options.toolsCacheMs !== undefined ? { toolsCacheMs: this.options.toolsCacheMs } : {}),
      now: this.now,
      hooks: {
        onBreakerStateChange: (mcp, endpoint, previous, state) =>
          this.emit('circuit_breaker_state_change', {
            mcp,
            endpoint,
            previous,
            state,
            timestamp: this.iso(),
          }),
        onResponse: (response) => this.emit('mcp_request', response),
        onToolsChanged: (mcp) => this.emit('mcp_tools_changed', { mcp, timestamp: this.iso() }),
        onLog: (level, message) => this.emit('mcp_log', { level, message }),
      },
    });
    this.clients.set(definition.name, client);
    this.scheduleHealthChecks(definition);
  }

  /** Periodic health checks of an active MCP (none for an inactive one), the first one now. */
  private scheduleHealthChecks(definition: McpDefinition): void {
    this.stopHealthChecks(definition.name);
    const { healthCheck } = definition;
    if (
      this.options.healthChecks !== false &&
      healthCheck.enabled &&
      definition.status === 'active' &&
      !this.closed
    ) {
      void this.checkHealth(definition.name);
      const timer = setInterval(() => void this.checkHealth(definition.name), healthCheck.interval);
      timer.unref();
      this.timers.set(definition.name, timer);
    }
  }

  private stopHealthChecks(name: string): void {
    clearInterval(this.timers.get(name));
    this.timers.delete(name);
  }

  private drop(name: string, client: MCPClient): void {
    this.stopHealthChecks(name);
    this.clients.delete(name);
    void this.closeWhenIdle(client);
  }

  /** Lets calls in flight on a replaced or removed client finish (up to 30 s) before closing it. */
  private async closeWhenIdle(client: MCPClient): Promise<void> {
    this.draining.add(client);
    await client.idle(30_000);
    this.draining.delete(client);
    await client.close();
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
