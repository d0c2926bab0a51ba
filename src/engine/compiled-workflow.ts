/**
 * A workflow ready to run: validated, its graph built and every expression
 * compiled once. Executions share it read-only.
 */
import type { ValidateFunction } from 'ajv';
import type { Dag } from './dag.js';
import type { WorkflowDefinition } from './definition.js';
import type { Compiled } from './expressions.js';

/** Retry and timeout settings of one call (a step or its compensation). */
export interface CallPolicy {
  /** Per attempt, ms, when the definition says; else the MCP's own timeout or the engine default applies. */
  timeoutMs?: number;
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Where a call goes. */
export interface CallTarget {
  mcp?: string;
  capability?: string;
  tool: string;
}

/** A compensation ready to run. */
export interface CompiledCompensation {
  target: CallTarget;
  params: Compiled<unknown>;
  policy: CallPolicy;
}

/** A step ready to run. */
export interface CompiledStep {
  index: number;
  name: string;
  target: CallTarget;
  params: Compiled<unknown>;
  condition?: Compiled<unknown>;
  policy: CallPolicy;
  dependencies: number[];
  dependents: number[];
  compensation?: CompiledCompensation;
}

/** A workflow version ready to run. */
export interface CompiledWorkflow {
  name: string;
  version: string;
  definition: WorkflowDefinition;
  /** Canonical JSON of the definition: equal text means equal content. */
  canonical: string;
  timeoutMs: number;
  steps: CompiledStep[];
  stepsByName: ReadonlyMap<string, CompiledStep>;
  dag: Dag;
  validateInput?: ValidateFunction;
  output?: Compiled<unknown>;
}
