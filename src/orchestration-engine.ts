/**
 * The library's `OrchestrationEngine`: the engine core with Node defaults
 * filled in (workflow files read from disk, an in-memory SQLite store, the
 * host name as instance id) and, when given a discovery service, its MCP
 * clients as the step caller and registration lookup, as the seed README
 * shows: `new OrchestrationEngine(discoveryService, { maxConcurrentWorkflows })`.
 * The core itself (`WorkflowEngine`) does no I/O.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { MCPDiscoveryService } from './discovery/index.js';
import {
  type ExecutionStore,
  type StepCaller,
  WorkflowEngine,
  type WorkflowEngineOptions,
} from './engine/index.js';
import { SqliteExecutionStore } from './store/index.js';

/** Options of {@link OrchestrationEngine}: those of the core, with the store optional. */
export interface OrchestrationEngineOptions extends Omit<WorkflowEngineOptions, 'store' | 'stepCaller'> {
  /** Defaults to an in-memory SQLite store (nothing survives the process). */
  store?: ExecutionStore;
  /** Defaults to the discovery service's MCP clients. */
  stepCaller?: StepCaller;
}

/** Runs workflows of MCP tool calls; see DESIGN.md, Library API. */
export class OrchestrationEngine extends WorkflowEngine {
  /** The discovery service whose MCPs this engine calls, when built with one. */
  readonly discovery: MCPDiscoveryService | undefined;

  constructor(options: OrchestrationEngineOptions & { stepCaller: StepCaller });
  constructor(discovery: MCPDiscoveryService, options?: OrchestrationEngineOptions);
  constructor(
    first: MCPDiscoveryService | (OrchestrationEngineOptions & { stepCaller: StepCaller }),
    second: OrchestrationEngineOptions = {},
  ) {
    const discovery = 'pool' in first ? first : undefined;
    const options: OrchestrationEngineOptions = discovery ? second : (first as OrchestrationEngineOptions);
    const stepCaller = options.stepCaller ?? discovery?.pool;
    if (!stepCaller) throw new TypeError('OrchestrationEngine needs a discovery service or a stepCaller');
    const mcpLookup = options.mcpLookup ?? discovery?.pool;
    super({
      ...options,
      stepCaller,
      ...(mcpLookup ? { mcpLookup } : {}),
      store: options.store ?? new SqliteExecutionStore({ path: ':memory:' }),
      readFile: options.readFile ?? ((path) => readFile(path, 'utf8')),
      instanceId: options.instanceId ?? hostname(),
    });
    this.discovery = discovery;
  }
}
