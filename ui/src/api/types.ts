/**
 * The documents of the REST API as the console reads them. Execution,
 * event and definition types are the engine's own: the API serialises them
 * as they are (DESIGN.md, REST API), so the console cannot drift from them.
 * The MCP and workflow list documents follow src/server/schemas.ts.
 */

export type { JsonValue, StepDefinition, WorkflowDefinition } from '../../../src/engine/definition.js';
export type { SerializedError } from '../../../src/engine/errors.js';
export type { EngineEventMap } from '../../../src/engine/events.js';
export type {
  AttemptDocument,
  CompensationDocument,
  ExecutionDocument,
  StepDocument,
} from '../../../src/engine/execution-document.js';
export type { ExecutionStatus, StepStatus } from '../../../src/engine/statuses.js';
export { EXECUTION_STATUSES, isFinalExecutionStatus } from '../../../src/engine/statuses.js';

import type { WorkflowDefinition } from '../../../src/engine/definition.js';

/** `{ items, nextCursor? }` of every list route. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** A registered workflow in `GET /workflows`. */
export interface WorkflowSummary {
  name: string;
  version: string;
  description?: string;
  /** Number of steps. */
  steps: number;
  registeredAt: string;
}

/** `GET /workflows/:name`. */
export interface WorkflowDetail extends WorkflowSummary {
  definition: WorkflowDefinition;
}

/** A circuit breaker's state. */
export interface BreakerDocument {
  state: 'closed' | 'open' | 'half-open';
  failures: number;
  openedAt?: string;
}

/** Health of an MCP, as the last check found it. */
export interface HealthDocument {
  status: 'healthy' | 'unhealthy' | 'unknown';
  checkedAt: string | null;
  latencyMs: number | null;
  error?: string;
}

/** One endpoint of an MCP (secrets shown as `***`). */
export interface EndpointDocument {
  name: string;
  protocol: 'http' | 'stdio';
  url?: string;
  command?: string;
  headers?: Record<string, string>;
  circuitBreaker: BreakerDocument;
}

/** `GET /mcps/:name`. */
export interface McpDocument {
  name: string;
  displayName: string;
  version: string;
  status: 'active' | 'inactive';
  priority: number;
  source: string;
  capabilities: string[];
  tools: string[] | null;
  timeout?: number;
  maxConcurrency?: number;
  protocolVersion?: string | null;
  endpoints: EndpointDocument[];
  health: HealthDocument;
  circuitBreaker: BreakerDocument;
}

/** `GET /mcps/:name/health` (200 healthy, 503 unhealthy: both carry this). */
export interface HealthCheckDocument extends HealthDocument {
  name: string;
}

/** One validation problem, `path` from the root of what was sent (`input.phone`). */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** An RFC 9457 problem document, as every error of the API is. */
export interface ProblemDocument {
  type?: string;
  title?: string;
  status: number;
  detail: string;
  code?: string;
  errors?: ValidationIssue[];
}
