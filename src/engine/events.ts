/**
 * Typed events of the engine (DESIGN.md, Events). Metrics, logs and the SSE
 * route subscribe to them; the engine itself calls no telemetry library.
 */
import type { SerializedError } from './errors.js';
import type { ExecutionStatus, StepStatus } from './statuses.js';

/** Fields every execution event carries. */
export interface ExecutionEventBase {
  executionId: string;
  workflow: { name: string; version: string };
  /** ISO time of the event. */
  timestamp: string;
}

/** Why a saga rolls back. */
export type RollbackReason = 'failed' | 'cancelled' | 'timed_out';

export interface WorkflowStartedEvent extends ExecutionEventBase {
  input: unknown;
}
export interface WorkflowCompletedEvent extends ExecutionEventBase {
  /** The final status, whichever it is. */
  status: ExecutionStatus;
  durationMs: number | null;
  output?: unknown;
  error?: SerializedError;
}
export interface StepStartedEvent extends ExecutionEventBase {
  step: string;
  attempt: number;
}
export interface StepCompletedEvent extends ExecutionEventBase {
  step: string;
  attempts: number;
  durationMs: number;
  result: unknown;
}
export interface StepFailedEvent extends ExecutionEventBase {
  step: string;
  attempts: number;
  /** `cancelled` when the step was called off by a rollback, cancel or timeout. */
  status: StepStatus;
  error: SerializedError;
}
export interface StepRetryingEvent extends ExecutionEventBase {
  step: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  error: SerializedError;
}
export interface StepSkippedEvent extends ExecutionEventBase {
  step: string;
  reason: 'condition' | 'dependencies_skipped';
}
export interface CompensationStartedEvent extends ExecutionEventBase {
  reason: RollbackReason;
  /** Steps to compensate, in the order they will be compensated. */
  steps: string[];
}
export interface StepCompensatedEvent extends ExecutionEventBase {
  step: string;
  /** `compensated`, or `compensation_failed` after the compensation's retries. */
  status: StepStatus;
  attempts: number;
  error?: SerializedError;
}
export interface WorkflowCancelledEvent extends ExecutionEventBase {
  reason: string;
}
/**
 * This replica resumes an execution left unfinished: after its own restart,
 * or taken over from a replica whose lease ran out.
 */
export interface ExecutionResumedEvent {
  executionId: string;
  instanceId: string;
  /** Status it was left in: `queued`, `running` or `compensating`. */
  status: ExecutionStatus;
}
/**
 * This replica lost its lease on an execution (it stalled past the lease and
 * another replica took the execution over) and stopped running it.
 */
export interface ExecutionAbandonedEvent {
  executionId: string;
  instanceId: string;
}

/** Event name -> listener arguments, for `EventEmitter<EngineEventMap>`. */
export interface EngineEventMap {
  workflow_started: [WorkflowStartedEvent];
  workflow_completed: [WorkflowCompletedEvent];
  step_started: [StepStartedEvent];
  step_completed: [StepCompletedEvent];
  step_failed: [StepFailedEvent];
  step_retrying: [StepRetryingEvent];
  step_skipped: [StepSkippedEvent];
  workflow_compensation_started: [CompensationStartedEvent];
  step_compensated: [StepCompensatedEvent];
  workflow_cancelled: [WorkflowCancelledEvent];
  execution_resumed: [ExecutionResumedEvent];
  execution_abandoned: [ExecutionAbandonedEvent];
}

/** Names of the execution events, in no particular order. */
export const EXECUTION_EVENT_NAMES = [
  'workflow_started',
  'workflow_completed',
  'step_started',
  'step_completed',
  'step_failed',
  'step_retrying',
  'step_skipped',
  'workflow_compensation_started',
  'step_compensated',
  'workflow_cancelled',
] as const satisfies readonly (keyof EngineEventMap)[];

/** Any execution event, with its name. */
export type ExecutionEventName = keyof EngineEventMap;
