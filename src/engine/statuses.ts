/**
 * Execution and step statuses of DESIGN.md, as const objects with the union
 * types derived from them, so a `switch` over a status is checked for
 * exhaustiveness.
 */

/** Status of an execution. */
export const ExecutionStatus = {
  Queued: 'queued',
  Running: 'running',
  Compensating: 'compensating',
  Completed: 'completed',
  Failed: 'failed',
  Compensated: 'compensated',
  CompensationFailed: 'compensation_failed',
  Cancelled: 'cancelled',
  TimedOut: 'timed_out',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];

/** Status of one step within an execution. */
export const StepStatus = {
  Pending: 'pending',
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
  Skipped: 'skipped',
  Cancelled: 'cancelled',
  Compensating: 'compensating',
  Compensated: 'compensated',
  CompensationFailed: 'compensation_failed',
} as const;
export type StepStatus = (typeof StepStatus)[keyof typeof StepStatus];

/** Status of a step's compensation. */
export const CompensationStatus = {
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
} as const;
export type CompensationStatus = (typeof CompensationStatus)[keyof typeof CompensationStatus];

const FINAL_EXECUTION: ReadonlySet<ExecutionStatus> = new Set([
  ExecutionStatus.Completed,
  ExecutionStatus.Failed,
  ExecutionStatus.Compensated,
  ExecutionStatus.CompensationFailed,
  ExecutionStatus.Cancelled,
  ExecutionStatus.TimedOut,
]);

/** True once an execution can change no more. */
export function isFinalExecutionStatus(status: ExecutionStatus): boolean {
  return FINAL_EXECUTION.has(status);
}

/** Every execution status, in lifecycle order (for schemas and filters). */
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = Object.values(ExecutionStatus);
/** Every step status, in lifecycle order. */
export const STEP_STATUSES: readonly StepStatus[] = Object.values(StepStatus);
