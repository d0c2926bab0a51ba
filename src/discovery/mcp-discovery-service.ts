/**
 * The merged view of every MCP the orchestrator knows (DESIGN.md, Registry
 * and Library API): the registry file, watched and hot reloaded, plus any
 * other discovery methods. It keeps the MCP client pool in step with the
 * view, so MCPs appear, change and disappear while executions run. An
 * invalid reload leaves the last good view in force.
 *
 * Longer than most files: besides the merge it runs each method's reads
 * (one at a time, timed out, retried with backoff, invalid MCPs reported
 * once). That part could become a reader of its own; it shares the merged
 * view and the events, so it stays here for now.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  canonicalJson,
  ErrorCode,
  isOrchestratorError,
  OrchestratorError,
  type SerializedError,
  serializeError,
  type ValidationIssue,
} from '../engine/index.js';
import {
  type ApplyResult,
  McpClientPool,
  type McpClientPoolOptions,
  type McpDefinition,
  type McpDocument,
  type McpPoolEventMap,
  toMcpDocument,
} from '../mcp/index.js';
import type { DiscoveryMethod } from './discovery-method.js';
import { FileWatcher } from './file-watcher.js';
import { normalizeEntry, parseRegistry, type RegistryEntry } from './registry-loader.js';

/** `registry_loaded`: a source's MCPs were (re)read and applied. */
export interface RegistryLoadedEvent {
  source: string;
  mcps: number;
  added: string[];
  removed: string[];
  updated: string[];
  timestamp: string;
}

/** `registry_error`: a source could not be read; the last good view stays. */
export interface RegistryErrorEvent {
  source: string;
  error: SerializedError;
  errors: ValidationIssue[];
  timestamp: string;
}

/** `mcp_discovered` / `mcp_removed` / `mcp_updated`. */
export interface McpChangeEvent {
  mcp: string;
  source: string;
  timestamp: string;
}

/** Events of the discovery service (the pool's are forwarded). */
export interface DiscoveryEventMap extends McpPoolEventMap {
  registry_loaded: [RegistryLoadedEvent];
  registry_error: [RegistryErrorEvent];
  mcp_discovered: [McpChangeEvent];
  mcp_removed: [McpChangeEvent];
  mcp_updated: [McpChangeEvent];
}

/** Options of {@link MCPDiscoveryService}. */
export interface DiscoveryServiceOptions {
  /** `REGISTRY_PATH` (./mcp-registry.json); null for no registry file. */
  registryPath?: string | null;
  /** Watch the registry file and reload on change (true). */
  watch?: boolean;
  /** Environment for `${VAR}` in the registry (process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default health check interval, ms (`HEALTH_CHECK_INTERVAL`, 30000). */
  healthCheckInterval?: number;
  /** Quiet time after a file event before re-reading, ms (100). */
  debounceMs?: number;
  /** Options of the MCP client pool, or a pool to use. */
  pool?: McpClientPool | McpClientPoolOptions;
  /** Further discovery methods; see {@link SOURCE_PRECEDENCE} for who wins a name. */
  methods?: DiscoveryMethod[];
  /** How long one `discoverMcps()` may take before it counts as failed, ms (10000). */
  methodTimeoutMs?: number;
  /** Retry of a method that failed: first delay and cap, ms (1000, 60000); doubles each time. */
  methodRetry?: { initialMs?: number; maxMs?: number };
  now?: () => number;
}

/** Figures of {@link MCPDiscoveryService.getMetrics}. */
export interface DiscoveryMetrics {
  totalMcps: number;
  activeMcps: number;
  healthyMcps: number;
  unhealthyMcps: number;
  openCircuits: number;
  bySource: Record<string, number>;
  registryReloads: { success: number; error: number };
  lastReloadAt: string | null;
}

/**
 * Who wins when two sources name the same MCP: what an operator wrote for
 * this deployment (the registry file, then `MCP_<NAME>_URL` variables) beats
 * what was discovered; among discovered sources, the more trusted and
 * administered one wins: the Kubernetes API (authenticated, RBAC), then DNS
 * (a zone someone runs), then multicast (anyone on the link may announce).
 * Custom methods come last, in the order they were added.
 */
export const SOURCE_PRECEDENCE = ['file', 'env', 'kubernetes', 'dns', 'multicast'] as const;

const FORWARDED = [
  'circuit_breaker_state_change',
  'mcp_healthy',
  'mcp_unhealthy',
  'mcp_request',
  'mcp_tools_changed',
  'mcp_log',
] as const;

/** Discovers MCP servers and keeps their clients. */
export class MCPDiscoveryService extends EventEmitter<DiscoveryEventMap> {
  readonly pool: McpClientPool;
  private readonly methods: DiscoveryMethod[] = [];
  /** Last good definitions of each source, by source name. */
  private readonly bySource = new Map<string, McpDefinition[]>();
  private readonly stops: (() => void | Promise<void>)[] = [];
  private readonly registryPath: string | null;
  private watcher: FileWatcher | undefined;
  private readonly now: () => number;
  private readonly reloads = { success: 0, error: 0 };
  private lastReloadAt: string | null = null;
  /** The merged view last applied, by MCP name. */
  private current = new Map<string, McpDefinition>();
  private initialized = false;
  private closed = false;
  /** Reads in progress, by method, and whether another was asked for meanwhile. */
  private readonly reading = new Map<string, { again: boolean; done?: Promise<void> }>();
  /** The invalid MCPs each method declared last, as reported (so a poll does not repeat it). */
  private readonly skipped = new Map<string, string>();
  /** Methods whose last read failed: how often in a row, and the pending retry. */
  private readonly retries = new Map<string, { failures: number; timer: NodeJS.Timeout }>();

  constructor(private readonly options: DiscoveryServiceOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.registryPath =
      options.registryPath === null ? null : resolve(options.registryPath ?? './mcp-registry.json');
    this.pool =
      options.pool instanceof McpClientPool
        ? options.pool
        : new McpClientPool({ now: this.now, ...options.pool });
    for (const name of FORWARDED) {
      this.pool.on(name, (...args: unknown[]) =>
        (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args),
      );
    }
    for (const method of options.methods ?? []) this.methods.push(method);
  }

  /**
   * Reads every source and starts watching. A registry file that cannot be
   * read or is invalid fails start-up with ORCH_REGISTRY_INVALID naming the
   * problems; later reloads that fail keep the last good view.
   */
  async initialize(): Promise<void> {
    if (this.registryPath) {
      const text = await this.readRegistry();
      this.applySource('file', this.parse(text));
      this.reloads.success += 1;
      if (this.options.watch !== false) {
        this.watcher = new FileWatcher({
          path: this.registryPath,
          ...(this.options.debounceMs !== undefined ? { debounceMs: this.options.debounceMs } : {}),
          onChange: (changed) => this.reloadFile(changed),
          onError: (error) => this.reportError('file', error),
        });
        this.watcher.markLoaded(text);
        await this.watcher.start();
      }
    }
    // Together: start-up waits for the slowest method, not their sum (precedence is by rank).
    await Promise.all(this.methods.map((method) => this.startMethod(method)));
    this.initialized = true;
  }

  /** Adds a discovery method (a custom one ranks after the built-ins and those added before it) and reads it now. */
  async addDiscoveryMethod(method: DiscoveryMethod): Promise<void> {
    if (this.methods.some((m) => m.name === method.name) || method.name === 'file') {
      throw new OrchestratorError(
        ErrorCode.BadRequest,
        `a discovery method named '${method.name}' exists already`,
      );
    }
    this.methods.push(method);
    if (this.initialized) await this.startMethod(method);
  }

  /** Re-reads the registry file now (what a file change does). */
  async reload(): Promise<void> {
    if (this.watcher) await this.watcher.check();
    else if (this.registryPath) await this.reloadFile(await this.readRegistry());
  }

  /** Every MCP, by name. */
  getMcps(): McpDocument[] {
    return this.pool
      .list()
      .map(toMcpDocument)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  getMcp(name: string): McpDocument | undefined {
    const client = this.pool.get(name);
    return client && toMcpDocument(client);
  }

  /** Active MCPs with a capability: healthy first, then by priority. */
  getMcpsByCapability(capability: string): McpDocument[] {
    return this.pool.byCapability(capability).map(toMcpDocument);
  }

  getMetrics(): DiscoveryMetrics {
    const docs = this.getMcps();
    const bySource: Record<string, number> = {};
    for (const d of docs) bySource[d.source] = (bySource[d.source] ?? 0) + 1;
    return {
      totalMcps: docs.length,
      activeMcps: docs.filter((d) => d.status === 'active').length,
      healthyMcps: docs.filter((d) => d.health.status === 'healthy').length,
      unhealthyMcps: docs.filter((d) => d.health.status === 'unhealthy').length,
      openCircuits: docs.reduce(
        (n, d) => n + d.endpoints.filter((e) => e.circuitBreaker.state !== 'closed').length,
        0,
      ),
      bySource,
      registryReloads: { ...this.reloads },
      lastReloadAt: this.lastReloadAt,
    };
  }

  /** Checks an MCP's health now; undefined for an unknown name. */
  async checkHealth(name: string) {
    return this.pool.checkHealth(name);
  }

  /** Closes an MCP's breakers; false for an unknown name. */
  resetCircuitBreaker(name: string): boolean {
    return this.pool.resetCircuitBreaker(name);
  }

  /** Stops watching and closes every client (stdio children end). */
  async close(): Promise<void> {
    this.closed = true;
    for (const { timer } of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    await this.watcher?.close();
    for (const stop of this.stops.splice(0)) await stop();
    await this.pool.close();
  }

  private async readRegistry(): Promise<string> {
    try {
      return await readFile(this.registryPath!, 'utf8');
    } catch (error) {
      throw new OrchestratorError(
        ErrorCode.RegistryInvalid,
        `cannot read the MCP registry ${this.registryPath}: ${(error as Error).message}`,
        {
          errors: [{ path: '', message: (error as Error).message }],
          cause: error,
        },
      );
    }
  }

  private parse(text: string): McpDefinition[] {
    return parseRegistry(text, {
      env: this.options.env ?? process.env,
      source: this.registryPath ?? 'registry',
      ...(this.options.healthCheckInterval !== undefined
        ? { healthCheckInterval: this.options.healthCheckInterval }
        : {}),
    });
  }

  private reloadFile(text: string): void {
    let definitions: McpDefinition[];
    try {
      definitions = this.parse(text);
    } catch (error) {
      this.reportError('file', error);
      return;
    }
    this.reloads.success += 1;
    this.applySource('file', definitions);
  }

  private async startMethod(method: DiscoveryMethod): Promise<void> {
    await this.refreshMethod(method);
    if (method.watch && !this.closed) {
      const stop = await method.watch(
        () => void this.refreshMethod(method),
        (error) => this.reportError(method.name, error),
      );
      // close() came while watch() was starting: it has run its stops already.
      if (this.closed) await stop();
      else this.stops.push(stop);
    }
  }

  /**
   * One read of a method at a time: a change or retry that comes during a
   * read asks for one more after it, so an older answer never lands after a
   * newer one and two failures never arm two retries.
   */
  private async refreshMethod(method: DiscoveryMethod): Promise<void> {
    if (this.closed) return;
    const busy = this.reading.get(method.name);
    if (busy) {
      busy.again = true;
      return busy.done;
    }
    const state: { again: boolean; done?: Promise<void> } = { again: false };
    this.reading.set(method.name, state);
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.readMethod(method);
        } while (state.again && !this.closed);
      } finally {
        this.reading.delete(method.name);
      }
    })();
    return state.done;
  }

  /**
   * Reads a method and applies what it says. An invalid MCP in the answer is
   * left out and reported (once, until the problems change): one bad
   * announcement must not hide the others. A failure (or an answer slower
   * than `methodTimeoutMs`) keeps the method's last good MCPs, is reported,
   * and is retried with a doubling delay until a read succeeds.
   */
  private async readMethod(method: DiscoveryMethod): Promise<void> {
    clearTimeout(this.retries.get(method.name)?.timer);
    try {
      const entries = await this.withTimeout(method);
      if (this.closed) return;
      const issues: ValidationIssue[] = [];
      const definitions: McpDefinition[] = [];
      for (const [name, entry] of Object.entries(entries)) {
        const own: ValidationIssue[] = [];
        const definition = normalizeEntry(name, entry, method.name, own, this.options.healthCheckInterval);
        if (own.length === 0) definitions.push(definition);
        else issues.push(...own);
      }
      this.reportSkipped(method.name, issues);
      this.applySource(method.name, definitions);
      this.retries.delete(method.name);
    } catch (error) {
      if (this.closed) return;
      this.reportError(method.name, error);
      if (this.closed) return;
      const { initialMs = 1000, maxMs = 60_000 } = this.options.methodRetry ?? {};
      const failures = (this.retries.get(method.name)?.failures ?? 0) + 1;
      const delay = Math.min(maxMs, initialMs * 2 ** (failures - 1));
      const timer = setTimeout(() => void this.refreshMethod(method), delay);
      timer.unref();
      this.retries.set(method.name, { failures, timer });
    }
  }

  private async withTimeout(method: DiscoveryMethod): Promise<Record<string, RegistryEntry>> {
    const timeoutMs = this.options.methodTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new OrchestratorError(
              ErrorCode.DiscoveryFailed,
              `discovery method '${method.name}' did not answer within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([Promise.resolve(method.discoverMcps()), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records a source's definitions and applies the merged view. */
  private applySource(source: string, definitions: McpDefinition[]): void {
    const before = this.bySource.get(source);
    this.bySource.set(source, definitions);
    // Polled and watched methods re-read often; only a real change is news.
    if (source !== 'file' && before && sameDefinitions(before, definitions)) return;
    const merged = this.merged();
    const result = this.pool.apply(merged);
    this.lastReloadAt = new Date(this.now()).toISOString();
    const timestamp = this.lastReloadAt;
    const previous = this.current;
    this.current = new Map(merged.map((d) => [d.name, d]));
    this.emitChanges(result, previous, timestamp);
    this.emit('registry_loaded', {
      source,
      mcps: definitions.length,
      added: result.added,
      removed: result.removed,
      updated: result.updated,
      timestamp,
    });
  }

  /**
   * Sources in {@link SOURCE_PRECEDENCE}, then custom methods in the order
   * added; the first source to name an MCP wins. Then each method may adjust
   * what the others declared (a bad adjustment is reported and skipped).
   */
  private merged(): McpDefinition[] {
    const rank = (name: string) => {
      const at = (SOURCE_PRECEDENCE as readonly string[]).indexOf(name);
      return at === -1 ? SOURCE_PRECEDENCE.length : at;
    };
    const order = ['file', ...this.methods.map((m) => m.name)]
      .map((name, added) => ({ name, added }))
      .sort((a, b) => rank(a.name) - rank(b.name) || a.added - b.added)
      .map((s) => s.name);
    const seen = new Map<string, McpDefinition>();
    for (const source of order) {
      for (const definition of this.bySource.get(source) ?? []) {
        if (!seen.has(definition.name)) seen.set(definition.name, definition);
      }
    }
    for (const method of this.methods) {
      if (!method.adjust) continue;
      for (const [name, definition] of seen) {
        if (definition.source === method.name) continue;
        try {
          seen.set(name, method.adjust(definition));
        } catch (error) {
          this.reportError(method.name, error);
        }
      }
    }
    return [...seen.values()];
  }

  private emitChanges(result: ApplyResult, previous: Map<string, McpDefinition>, timestamp: string): void {
    const source = (name: string) => (this.current.get(name) ?? previous.get(name))?.source ?? 'unknown';
    for (const mcp of result.added) this.emit('mcp_discovered', { mcp, source: source(mcp), timestamp });
    for (const mcp of result.updated) this.emit('mcp_updated', { mcp, source: source(mcp), timestamp });
    for (const mcp of result.removed) this.emit('mcp_removed', { mcp, source: source(mcp), timestamp });
  }

  private reportSkipped(source: string, issues: ValidationIssue[]): void {
    const key = canonicalJson(issues);
    if (key === (this.skipped.get(source) ?? '[]')) return;
    this.skipped.set(source, key);
    if (issues.length === 0) return;
    this.reportError(
      source,
      new OrchestratorError(
        ErrorCode.RegistryInvalid,
        `discovery method '${source}' declared invalid MCPs, left out: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        { errors: issues },
      ),
    );
  }

  private reportError(source: string, error: unknown): void {
    if (this.closed) return;
    if (source === 'file') this.reloads.error += 1;
    this.emit('registry_error', {
      source,
      error: serializeError(error),
      errors: isOrchestratorError(error) ? (error.errors ?? []) : [],
      timestamp: new Date(this.now()).toISOString(),
    });
  }
}

function sameDefinitions(a: McpDefinition[], b: McpDefinition[]): boolean {
  const key = (list: McpDefinition[]) =>
    list
      .map((d) => `${d.name}\u0000${d.fingerprint}`)
      .sort()
      .join('\u0001');
  return a.length === b.length && key(a) === key(b);
}
