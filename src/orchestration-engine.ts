/**
 * The library's `OrchestrationEngine`: the engine core with Node defaults
 * filled in (workflow files read from disk, an in-memory SQLite store, the
 * host name as instance id). The core itself (`WorkflowEngine`) does no I/O.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type ExecutionStore, WorkflowEngine, type WorkflowEngineOptions } from './engine/index.js';
import { SqliteExecutionStore } from './store/index.js';

/** Options of {@link OrchestrationEngine}: those of the core, with the store optional. */
export interface OrchestrationEngineOptions extends Omit<WorkflowEngineOptions, 'store'> {
  /** Defaults to an in-memory SQLite store (nothing survives the process). */
  store?: ExecutionStore;
}

/** Runs workflows of MCP tool calls; see DESIGN.md, Library API. */
export class OrchestrationEngine extends WorkflowEngine {
  constructor(options: OrchestrationEngineOptions) {
    super({
      ...options,
      store: options.store ?? new SqliteExecutionStore({ path: ':memory:' }),
      readFile: options.readFile ?? ((path) => readFile(path, 'utf8')),
      instanceId: options.instanceId ?? hostname(),
    });
  }
}
