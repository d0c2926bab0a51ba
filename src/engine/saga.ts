/**
 * Saga rollback (DESIGN.md, "Failure and saga"): every step that completed,
 * or was aborted mid-call, and has a `compensation` is compensated in reverse
 * order of completion, one at a time, each with its own timeout and retries.
 * A compensation that still fails is recorded and the rollback goes on with
 * the others, so one broken undo does not strand the rest.
 */
import type { CompiledStep, CompiledWorkflow } from './compiled-workflow.js';
import { serializeError } from './errors.js';
import type { ExecutionEventBase, RollbackReason } from './events.js';
import type { ExecutionRecord, StepRecord } from './execution-store.js';
import type { ExpressionScope } from './expressions.js';
import { type RunEnvironment, resolveTimeout, toolCall } from './run-environment.js';
import { CompensationStatus, StepStatus } from './statuses.js';

/** What the saga needs of the run it rolls back. */
export interface SagaHost {
  readonly workflow: CompiledWorkflow;
  readonly record: ExecutionRecord;
  readonly env: RunEnvironment;
  scope(): ExpressionScope;
  saveStep(name: string, step: StepRecord): Promise<void>;
  eventBase(): ExecutionEventBase;
  isoNow(): string;
}

/** Result of a rollback. */
export interface SagaResult {
  compensated: number;
  failed: number;
}

/** The steps to compensate, in the order to compensate them. */
export function compensationPlan(workflow: CompiledWorkflow, record: ExecutionRecord): CompiledStep[] {
  return workflow.steps
    .filter((step) => {
      const state = record.steps[step.name];
      if (!step.compensation || !state) return false;
      // An aborted step gets a completion sequence number only when it was stopped mid-call.
      const interrupted = state.status === StepStatus.Cancelled && state.completedSeq !== undefined;
      return state.status === StepStatus.Completed || interrupted || state.status === StepStatus.Compensating;
    })
    .sort((a, b) => (record.steps[b.name]!.completedSeq ?? 0) - (record.steps[a.name]!.completedSeq ?? 0));
}

/** Runs the rollback. `signal` aborts it only when this replica gave the execution up. */
export async function runCompensations(
  host: SagaHost,
  reason: RollbackReason,
  plan: CompiledStep[],
  signal: AbortSignal,
): Promise<SagaResult> {
  const result: SagaResult = { compensated: 0, failed: 0 };
  if (plan.length === 0) return result;
  host.env.emit('workflow_compensation_started', {
    ...host.eventBase(),
    reason,
    steps: plan.map((s) => s.name),
  });
  for (const step of plan) {
    // The replica that took the execution over carries on from what is stored.
    if (signal.aborted) break;
    const ok = await compensateStep(host, step, signal);
    if (ok) result.compensated += 1;
    else result.failed += 1;
  }
  return result;
}

async function compensateStep(host: SagaHost, step: CompiledStep, signal: AbortSignal): Promise<boolean> {
  const compensation = step.compensation!;
  const state = host.record.steps[step.name]!;
  // Its place in the rollback, counting those done before (also by a process that stopped since).
  const done = Object.values(host.record.steps).filter(
    (s) => s !== state && s.compensation && s.compensation.status !== CompensationStatus.Running,
  ).length;
  const record: StepRecord = {
    ...state,
    status: StepStatus.Compensating,
    compensation: {
      status: CompensationStatus.Running,
      attempts: 0,
      order: done + 1,
      startedAt: host.isoNow(),
    },
  };
  host.record.steps[step.name] = record;
  const c = record.compensation!;

  let params: unknown;
  let outcome: Awaited<ReturnType<RunEnvironment['calls']['run']>>;
  try {
    params = await compensation.params.evaluate(host.scope());
  } catch (error) {
    outcome = { ok: false, attempts: 0, error, aborted: false, inFlight: false };
  }
  await host.saveStep(step.name, record);
  const timeoutMs = resolveTimeout(host.env, compensation.policy.timeoutMs, compensation.target);
  outcome ??= await host.env.calls.run(
    compensation.policy,
    timeoutMs,
    toolCall(
      host.env,
      host.record,
      step.name,
      compensation.target,
      params as Record<string, unknown>,
      timeoutMs,
      true,
    ),
    {
      beforeAttempt: async (attempt) => {
        c.attempts = attempt;
        if (attempt > 1) await host.saveStep(step.name, record);
      },
      onRetry: (_attempt, _delay, error) => {
        c.error = serializeError(error);
      },
    },
    signal,
  );

  c.completedAt = host.isoNow();
  c.attempts = outcome.attempts;
  if (outcome.ok) {
    c.status = CompensationStatus.Completed;
    if (outcome.value !== undefined) c.result = outcome.value;
    delete c.error;
    record.status = StepStatus.Compensated;
  } else {
    c.status = CompensationStatus.Failed;
    c.error = serializeError(outcome.error);
    record.status = StepStatus.CompensationFailed;
  }
  await host.saveStep(step.name, record);
  host.env.emit('step_compensated', {
    ...host.eventBase(),
    step: step.name,
    status: record.status,
    attempts: c.attempts,
    ...(c.error ? { error: c.error } : {}),
  });
  return outcome.ok;
}
