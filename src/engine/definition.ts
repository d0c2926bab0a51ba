/**
 * The workflow definition as users write it (YAML or JSON), after schema
 * validation. See DESIGN.md, Workflows.
 */

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Retry backoff of a step: exponential with decorrelated jitter. */
export interface BackoffDefinition {
  /** First delay, ms (default 200). */
  initialDelay?: number;
  /** Ceiling of any delay, ms (default 30000). */
  maxDelay?: number;
}

/** The undo action of a step, run when the saga rolls back. */
export interface CompensationDefinition {
  /** MCP to call; defaults to the step's `mcp` (or its `capability`). */
  mcp?: string;
  capability?: string;
  action: string;
  params?: Record<string, JsonValue>;
  /** Per attempt, ms; defaults to the step's timeout. */
  timeout?: number;
  /** Defaults to 3: an undo deserves more persistence than the do. */
  retries?: number;
  backoff?: BackoffDefinition;
}

/** One step: a call of `action` (a tool) on an MCP. */
export interface StepDefinition {
  name: string;
  description?: string;
  mcp?: string;
  capability?: string;
  action: string;
  params?: Record<string, JsonValue>;
  /** Per attempt, ms. */
  timeout?: number;
  /** Attempts = retries + 1. */
  retries?: number;
  backoff?: BackoffDefinition;
  parallel?: boolean;
  dependsOn?: string[];
  condition?: string | boolean;
  compensation?: CompensationDefinition;
}

/** A workflow definition. */
export interface WorkflowDefinition {
  name: string;
  version: string;
  description?: string;
  /** Whole execution, ms. */
  timeout?: number;
  /** JSON Schema of the execution input. */
  input?: Record<string, JsonValue>;
  /** Expression or template for the execution's output; default: the map of step results. */
  output?: JsonValue;
  steps: StepDefinition[];
}
