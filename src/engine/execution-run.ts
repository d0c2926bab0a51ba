/**
 * One execution from start to final status: the DAG scheduler (every step
 * whose dependencies are met starts at once), conditions and skip
 * propagation, the whole-workflow timeout, cancel, and the hand-over to the
 * saga on failure. Each transition is written to the store before the event
 * for it is emitted and before the engine acts on it.
 */
import { setMaxListeners } from 'node:events';
import { attemptOutcome, beginAttempt, endAttempt, openAttempt } from './attempt-history.js';
import type { CompiledStep, CompiledWorkflow } from './compiled-workflow.js';
import { ErrorCode, OrchestratorError, type SerializedError, serializeError } from './errors.js';
import type { ExecutionEventBase, RollbackReason, WorkflowCompletedEvent } from './events.js';
import type { ExecutionPatch, ExecutionRecord, StepRecord } from './execution-store.js';
import { type ExpressionScope, isTruthy, type StepView } from './expressions.js';
import { isoTime } from './iso-time.js';
import { type RunEnvironment, resolveTimeout, toolCall } from './run-environment.js';
import { compensationPlan, runCompensations, type SagaHost } from './saga.js';
import { ExecutionStatus, StepStatus } from './statuses.js';

type StepOutcome = 'completed' | 'skipped' | 'failed' | 'cancelled';

/** How the forward phase ended. */
type ForwardOutcome =
  | { kind: 'completed' }
  | { kind: 'failed'; step: string; error: SerializedError }
  | { kind: 'aborted'; reason: 'cancelled' | 'timed_out' };

/** Compensations are not stopped by cancel or timeout; only a forced shutdown (a later addition) would. */

/** Runs one execution. Created by the engine, which owns the queue and limits. */
export class ExecutionRun implements SagaHost {
  /**
   * Why the run was told to stop (a cancel, or the execution given up), once
   * it was. A plain field rather than an AbortSignal: only the forward phase
   * listens (through {@link onStop}), and a signal per execution costs more
   * than the rest of its bookkeeping (bench/README.md).
   */
  private stopReason: unknown;
  /** The forward phase, while it runs: told at once when the run is stopped. */
  private onStop: ((reason: unknown) => void) | undefined;
  private writes: Promise<void> = Promise.resolve();
  private completionSeq = 0;
  private readonly views: Record<string, StepView> = {};
  private readonly stepStatus: StepStatus[];
  /** Another replica took the execution over: stop without writing or rolling back. */
  private abandoned = false;
  /** The fast start's insert failed: stopped like an abandoned run, and never reported. */
  private discarded = false;
  /** The fast start's insert, then `workflow_started`; until then every write also waits for it. */
  private inserted: Promise<void> | undefined;
  /** Aborts a rollback only when the execution is abandoned; cancel and timeouts never stop one. Made when first needed. */
  private abandonControllerOrUndefined: AbortController | undefined;

  constructor(
    readonly env: RunEnvironment,
    readonly workflow: CompiledWorkflow,
    readonly record: ExecutionRecord,
  ) {
    this.stepStatus = workflow.steps.map(() => StepStatus.Pending);
  }

  /** Stops the run (the first reason wins): the forward phase aborts its steps. */
  private stop(reason: unknown): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.onStop?.(reason);
  }

  private get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  private get abandonController(): AbortController {
    this.abandonControllerOrUndefined ??= new AbortController();
    return this.abandonControllerOrUndefined;
  }

  /** Asks a running execution to stop and roll back. False when it is already past that point. */
  cancel(reason: string): boolean {
    if (this.record.status !== ExecutionStatus.Running && this.record.status !== ExecutionStatus.Queued)
      return false;
    if (this.stopped) return true;
    void this.updateExecution({ cancelReason: reason }).catch(() => undefined);
    this.stop(new OrchestratorError(ErrorCode.Cancelled, `execution cancelled: ${reason}`));
    return true;
  }

  /**
   * Runs an execution whose record is being inserted already `running` (the
   * engine's fast start). Its first writes go out at once and share the
   * insert's commit; `workflow_started` and every tool call wait for the
   * insert. If it fails, the run is discarded: steps stop, nothing is written.
   */
  runInserted(inserted: Promise<void>): Promise<ExecutionRecord> {
    this.inserted = inserted.then(
      () => {
        this.inserted = undefined;
        this.env.emit('workflow_started', { ...this.eventBase(), input: this.record.input });
      },
      (error: unknown) => {
        this.discarded = true;
        this.abandon('the execution could not be stored');
        throw error;
      },
    );
    // Whoever waits on it handles the error; this keeps an unobserved one from crashing the process.
    this.inserted.catch(() => undefined);
    return this.guarded(async () => this.afterForward(await this.runForward()));
  }

  /** Runs to a final status and returns the final record. Never rejects. */
  run(): Promise<ExecutionRecord> {
    return this.guarded(async () => {
      await this.start();
      return this.afterForward(await this.runForward());
    });
  }

  /**
   * Resumes an execution a process left unfinished, from its stored record:
   * completed and skipped steps are not called again (their results feed
   * `$steps`), a step that was in flight is called again with the same
   * idempotency key, a backoff waits out its stored `nextAttemptAt`, the
   * workflow timeout keeps its stored deadline, and a rollback goes on with
   * the compensations not yet done.
   */
  resume(): Promise<ExecutionRecord> {
    return this.guarded(async () => {
      if (this.record.status === ExecutionStatus.Queued) {
        // Cancelled through another replica before it ever ran.
        if (this.record.cancelReason !== undefined)
          return this.rollBack({ kind: 'aborted', reason: 'cancelled' });
        await this.start();
        return this.afterForward(await this.runForward());
      }
      this.restore();
      await this.updateExecution({ owner: this.env.instanceId });
      const deadline = this.record.deadlineAt ? Date.parse(this.record.deadlineAt) : Number.POSITIVE_INFINITY;
      const rollback: Exclude<ForwardOutcome, { kind: 'completed' }> | undefined =
        this.recordedRollback() ??
        (deadline <= this.env.clock.now() ? { kind: 'aborted', reason: 'timed_out' } : undefined);
      if (rollback) {
        // A call in flight at the crash may have had its effect: the saga undoes it too.
        for (const step of this.workflow.steps) {
          const state = this.record.steps[step.name];
          if (state?.status === StepStatus.Running) {
            Object.assign(state, { status: StepStatus.Cancelled, completedSeq: ++this.completionSeq });
            await this.saveStep(step.name, state);
          }
        }
        return this.rollBack(rollback);
      }
      return this.afterForward(await this.runForward());
    });
  }

  private async guarded(body: () => Promise<ExecutionRecord>): Promise<ExecutionRecord> {
    try {
      return await body();
    } catch (error) {
      // A store outage or a bug: record what we can, never leave the caller hanging.
      try {
        return await this.finish(ExecutionStatus.Failed, null, serializeError(error));
      } catch {
        Object.assign(this.record, {
          status: ExecutionStatus.Failed,
          owner: null,
          error: serializeError(error),
        });
        return this.record;
      }
    }
  }

  private async afterForward(outcome: ForwardOutcome): Promise<ExecutionRecord> {
    if (outcome.kind === 'completed') {
      const output = await this.computeOutput();
      if (output.ok) return this.finish(ExecutionStatus.Completed, output.value);
      return this.rollBack({ kind: 'failed', step: 'output', error: serializeError(output.error) });
    }
    return this.rollBack(outcome);
  }

  /** Rebuilds the in-memory state of a stored execution. */
  private restore(): void {
    for (const step of this.workflow.steps) {
      const state = this.record.steps[step.name];
      if (!state) continue;
      if (state.completedSeq !== undefined)
        this.completionSeq = Math.max(this.completionSeq, state.completedSeq);
      if (state.status === StepStatus.Running) continue;
      this.stepStatus[step.index] = state.status;
      const view: StepView = { status: state.status, attempts: state.attempts };
      if (state.result !== undefined) view.result = state.result;
      if (state.error) view.error = state.error;
      this.views[step.name] = view;
    }
  }

  /** Whether the stored execution was already rolling back, and why. */
  private recordedRollback(): Exclude<ForwardOutcome, { kind: 'completed' }> | undefined {
    const { record } = this;
    if (record.cancelReason !== undefined) {
      this.stop(new OrchestratorError(ErrorCode.Cancelled, `execution cancelled: ${record.cancelReason}`));
      return { kind: 'aborted', reason: 'cancelled' };
    }
    if (record.error?.code === ErrorCode.WorkflowTimeout) return { kind: 'aborted', reason: 'timed_out' };
    const failed = this.workflow.steps.find((s) => record.steps[s.name]?.status === StepStatus.Failed);
    if (failed)
      return {
        kind: 'failed',
        step: failed.name,
        error: record.steps[failed.name]!.error ?? { code: ErrorCode.StepFailed, message: 'failed' },
      };
    if (record.status === ExecutionStatus.Compensating) {
      const details = record.error?.details as { step?: string; cause?: SerializedError } | undefined;
      return {
        kind: 'failed',
        step: details?.step ?? 'unknown',
        error: details?.cause ?? record.error ?? { code: ErrorCode.StepFailed, message: 'failed' },
      };
    }
    return undefined;
  }

  /**
   * Gives the execution up: its lease went to another replica, which now
   * runs it. Steps stop, nothing more is written, nothing is rolled back.
   */
  abandon(reason = 'another replica took this execution over'): void {
    this.abandoned = true;
    this.abandonController.abort(new OrchestratorError(ErrorCode.Cancelled, reason));
    this.stop(new OrchestratorError(ErrorCode.Cancelled, reason));
  }

  /** True once {@link abandon} was called. */
  get isAbandoned(): boolean {
    return this.abandoned && !this.discarded;
  }

  /** True when the fast start's insert failed: the execution never existed. */
  get isDiscarded(): boolean {
    return this.discarded;
  }

  /** Ends an execution that was cancelled while still queued: it never ran, so nothing rolls back. */
  async cancelQueued(): Promise<ExecutionRecord> {
    return this.rollBack({ kind: 'aborted', reason: 'cancelled' });
  }

  private async start(): Promise<void> {
    const now = this.env.clock.now();
    const patch: ExecutionPatch = {
      status: ExecutionStatus.Running,
      owner: this.env.instanceId,
      startedAt: isoTime(now),
      deadlineAt: isoTime(now + this.workflow.timeoutMs),
    };
    await this.updateExecution(patch);
    this.env.emit('workflow_started', { ...this.eventBase(), input: this.record.input });
  }

  private async runForward(): Promise<ForwardOutcome> {
    if (this.stopped) return { kind: 'aborted', reason: 'cancelled' };
    const deadline = Date.parse(this.record.deadlineAt!);
    const remaining = deadline - this.env.clock.now();
    if (remaining <= 0) return { kind: 'aborted', reason: 'timed_out' };
    return this.forward(remaining);
  }

  /**
   * The scheduler: resolves once no step runs and none can start. A cancel
   * or the workflow timeout (`remainingMs` from now) stops the steps.
   */
  private forward(remainingMs: number): Promise<ForwardOutcome> {
    const steps = this.workflow.steps;
    const waiting = steps.map((s) => s.dependencies.length);
    const stepsController = new AbortController();
    // One listener per running step: a wide fan-out is normal, not a leak.
    setMaxListeners(0, stepsController.signal);
    let failure: { step: string; error: SerializedError } | undefined;
    let active = 0;
    // Cancelled or timed out (a failure aborts the steps too, but is told apart by `failure`).
    let interrupted = false;
    const interrupt = (reason: unknown) => {
      interrupted = true;
      if (!stepsController.signal.aborted) stepsController.abort(reason);
    };
    const timer = setTimeout(
      () =>
        interrupt(
          new OrchestratorError(
            ErrorCode.WorkflowTimeout,
            `workflow timed out after ${this.workflow.timeoutMs} ms`,
          ),
        ),
      remainingMs,
    );
    this.onStop = interrupt;

    return new Promise<ForwardOutcome>((resolve) => {
      const settle = () => {
        if (active > 0) return;
        clearTimeout(timer);
        this.onStop = undefined;
        if (failure) resolve({ kind: 'failed', ...failure });
        else if (interrupted) resolve({ kind: 'aborted', reason: this.stopped ? 'cancelled' : 'timed_out' });
        else resolve({ kind: 'completed' });
      };
      const launch = (step: CompiledStep) => {
        active += 1;
        void this.runStepSafely(step, stepsController.signal).then((outcome) => {
          active -= 1;
          this.stepStatus[step.index] = toStepStatus(outcome);
          if (outcome === 'failed' && !failure && !stepsController.signal.aborted) {
            const error = this.record.steps[step.name]?.error ?? {
              code: ErrorCode.StepFailed,
              message: 'failed',
            };
            failure = { step: step.name, error };
            stepsController.abort(
              new OrchestratorError(ErrorCode.Cancelled, `stopped because step '${step.name}' failed`),
            );
          }
          if ((outcome === 'completed' || outcome === 'skipped') && !stepsController.signal.aborted) {
            for (const d of step.dependents) {
              waiting[d]! -= 1;
              if (waiting[d] === 0) launch(steps[d]!);
            }
          }
          settle();
        });
      };
      // On a resume, steps that already completed or were skipped release their dependents.
      const done = (i: number) =>
        this.stepStatus[i] === StepStatus.Completed || this.stepStatus[i] === StepStatus.Skipped;
      for (const step of steps) if (done(step.index)) for (const d of step.dependents) waiting[d]! -= 1;
      for (const step of steps) if (waiting[step.index] === 0 && !done(step.index)) launch(step);
      settle();
    });
  }

  /** Runs a step; a store that refuses a write fails the step (its progress can no longer be recorded). */
  private async runStepSafely(step: CompiledStep, signal: AbortSignal): Promise<StepOutcome> {
    try {
      return await this.runStep(step, signal);
    } catch (error) {
      const record: StepRecord = this.record.steps[step.name] ?? {
        status: StepStatus.Pending,
        attempts: 0,
        startedAt: null,
        completedAt: null,
        durationMs: null,
      };
      record.status = StepStatus.Failed;
      record.error = serializeError(
        new OrchestratorError(
          ErrorCode.StoreError,
          `could not record step '${step.name}': ${(error as Error).message}`,
          {
            cause: error,
          },
        ),
      );
      this.record.steps[step.name] = record;
      return 'failed';
    }
  }

  private async runStep(step: CompiledStep, signal: AbortSignal): Promise<StepOutcome> {
    const deps = step.dependencies;
    if (deps.length > 0 && deps.every((d) => this.stepStatus[d] === StepStatus.Skipped)) {
      return this.skip(step, 'dependencies_skipped');
    }
    if (signal.aborted) return 'cancelled';
    let params: Record<string, unknown>;
    try {
      if (step.condition && !isTruthy(await step.condition.evaluate(this.scope()))) {
        return this.skip(step, 'condition');
      }
      params = (await step.params.evaluate(this.scope())) as Record<string, unknown>;
    } catch (error) {
      return this.failBeforeCall(step, error);
    }
    if (signal.aborted) return 'cancelled';

    // A step in flight (or in backoff) when a process stopped goes on where it was.
    const previous = this.record.steps[step.name];
    const resuming = previous?.status === StepStatus.Running;
    const record: StepRecord = resuming
      ? previous
      : { status: StepStatus.Running, attempts: 0, startedAt: null, completedAt: null, durationMs: null };
    this.record.steps[step.name] = record;
    let startedMs = record.startedAt ? Date.parse(record.startedAt) : 0;
    let firstAttempt = 1;
    let delayFirstMs = 0;
    if (resuming) {
      // The attempt in flight at the stop is kept, as interrupted, before the one made again.
      if (!record.nextAttemptAt && !record.attemptHistory && record.startedAt)
        record.attemptHistory = [
          {
            attempt: Math.max(1, record.attempts),
            startedAt: record.startedAt,
            completedAt: null,
            durationMs: null,
          },
        ];
      if (record.nextAttemptAt) {
        firstAttempt = record.attempts + 1;
        delayFirstMs = Math.max(0, Date.parse(record.nextAttemptAt) - this.env.clock.now());
      } else {
        // The attempt in flight is made again, with the same idempotency key.
        firstAttempt = Math.max(1, record.attempts);
      }
    }
    const timeoutMs = resolveTimeout(this.env, step.policy.timeoutMs, step.target);
    const outcome = await this.env.calls.run(
      step.policy,
      timeoutMs,
      toolCall(this.env, this.record, step.name, step.target, params, timeoutMs, false),
      {
        beforeAttempt: async (attempt) => {
          record.attempts = attempt;
          delete record.nextAttemptAt;
          const now = this.env.clock.now();
          if (record.startedAt === null) {
            startedMs = now;
            record.startedAt = isoTime(startedMs);
          }
          if (record.attemptHistory) beginAttempt(record.attemptHistory, attempt, now);
          await this.saveStep(step.name, record);
          // Every attempt: a watcher sees the retry begin, not only the backoff before it.
          this.env.emit('step_started', { ...this.eventBase(), step: step.name, attempt });
        },
        onRetry: (attempt, delayMs, error) => {
          const serialized = serializeError(error);
          const now = this.env.clock.now();
          record.error = serialized;
          record.nextAttemptAt = isoTime(now + delayMs);
          // From the first retry on, each attempt is kept; the first is told by the step's own start.
          record.attemptHistory ??= [openAttempt(attempt, startedMs || now)];
          endAttempt(record.attemptHistory, now, attemptOutcome(error), serialized, delayMs);
          // cockatiel calls this synchronously; the event follows the write, as every event does.
          void this.saveStep(step.name, record).then(
            () =>
              this.env.emit('step_retrying', {
                ...this.eventBase(),
                step: step.name,
                attempt,
                delayMs,
                error: serialized,
              }),
            () => undefined,
          );
        },
      },
      signal,
      firstAttempt,
      delayFirstMs,
    );

    const endMs = this.env.clock.now();
    record.completedAt = isoTime(endMs);
    record.durationMs = startedMs ? endMs - startedMs : 0;
    delete record.nextAttemptAt;
    if (record.attemptHistory) {
      const last = outcome.ok
        ? ({ outcome: 'completed' } as const)
        : {
            outcome: outcome.aborted ? ('cancelled' as const) : attemptOutcome(outcome.error),
            error: serializeError(outcome.error),
          };
      endAttempt(record.attemptHistory, endMs, last.outcome, 'error' in last ? last.error : undefined);
    }
    if (outcome.ok) {
      record.status = StepStatus.Completed;
      record.result = outcome.value;
      record.completedSeq = ++this.completionSeq;
      delete record.error;
      this.views[step.name] = { status: record.status, result: outcome.value, attempts: record.attempts };
      await this.saveStep(step.name, record);
      this.env.emit('step_completed', {
        ...this.eventBase(),
        step: step.name,
        attempts: record.attempts,
        durationMs: record.durationMs,
        result: outcome.value,
      });
      return 'completed';
    }
    record.error = serializeError(outcome.error);
    if (outcome.aborted) {
      record.status = StepStatus.Cancelled;
      // Stopped mid-call: its effect may have happened, so the saga must undo it.
      if (outcome.inFlight) record.completedSeq = ++this.completionSeq;
    } else {
      record.status = StepStatus.Failed;
    }
    this.views[step.name] = { status: record.status, error: record.error, attempts: record.attempts };
    await this.saveStep(step.name, record);
    this.env.emit('step_failed', {
      ...this.eventBase(),
      step: step.name,
      attempts: record.attempts,
      status: record.status,
      error: record.error,
    });
    return outcome.aborted ? 'cancelled' : 'failed';
  }

  private async skip(step: CompiledStep, reason: 'condition' | 'dependencies_skipped'): Promise<StepOutcome> {
    const now = isoTime(this.env.clock.now());
    const record: StepRecord = {
      status: StepStatus.Skipped,
      attempts: 0,
      startedAt: null,
      completedAt: now,
      durationMs: null,
    };
    this.record.steps[step.name] = record;
    this.views[step.name] = { status: StepStatus.Skipped, attempts: 0 };
    await this.saveStep(step.name, record);
    this.env.emit('step_skipped', { ...this.eventBase(), step: step.name, reason });
    return 'skipped';
  }

  private async failBeforeCall(step: CompiledStep, error: unknown): Promise<StepOutcome> {
    const now = isoTime(this.env.clock.now());
    const serialized = serializeError(error);
    const record: StepRecord = {
      status: StepStatus.Failed,
      attempts: 0,
      startedAt: null,
      completedAt: now,
      durationMs: null,
      error: serialized,
    };
    this.record.steps[step.name] = record;
    this.views[step.name] = { status: StepStatus.Failed, error: serialized, attempts: 0 };
    await this.saveStep(step.name, record);
    this.env.emit('step_failed', {
      ...this.eventBase(),
      step: step.name,
      attempts: 0,
      status: record.status,
      error: serialized,
    });
    return 'failed';
  }

  private async computeOutput(): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    try {
      if (this.workflow.output) return { ok: true, value: await this.workflow.output.evaluate(this.scope()) };
      const output: Record<string, unknown> = {};
      for (const step of this.workflow.steps) {
        const state = this.record.steps[step.name];
        if (state?.status === StepStatus.Completed) output[step.name] = state.result;
      }
      return { ok: true, value: output };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private async rollBack(outcome: Exclude<ForwardOutcome, { kind: 'completed' }>): Promise<ExecutionRecord> {
    if (this.abandoned) return this.record;
    const reason: RollbackReason = outcome.kind === 'failed' ? 'failed' : outcome.reason;
    // Steps that never started are called off.
    const now = isoTime(this.env.clock.now());
    for (const step of this.workflow.steps) {
      if (this.record.steps[step.name]) continue;
      const record: StepRecord = {
        status: StepStatus.Cancelled,
        attempts: 0,
        startedAt: null,
        completedAt: now,
        durationMs: null,
      };
      this.record.steps[step.name] = record;
      void this.saveStep(step.name, record).catch(() => undefined);
    }
    const error = this.rollbackError(outcome);
    const plan = compensationPlan(this.workflow, this.record);
    if (plan.length > 0) {
      await this.updateExecution({ status: ExecutionStatus.Compensating, error });
      await runCompensations(this, reason, plan, this.abandonController.signal);
      if (this.abandoned) return this.record;
    }
    // Counted from the records, so compensations done before a restart count too.
    const states = Object.values(this.record.steps).map((s) => s.status);
    const compensationFailed = states.includes(StepStatus.CompensationFailed);
    const compensated = compensationFailed || states.includes(StepStatus.Compensated);
    let status: ExecutionStatus;
    if (compensationFailed) status = ExecutionStatus.CompensationFailed;
    else if (reason === 'cancelled') status = ExecutionStatus.Cancelled;
    else if (reason === 'timed_out') status = ExecutionStatus.TimedOut;
    else status = compensated ? ExecutionStatus.Compensated : ExecutionStatus.Failed;
    return this.finish(status, null, error);
  }

  private rollbackError(outcome: Exclude<ForwardOutcome, { kind: 'completed' }>): SerializedError {
    if (outcome.kind === 'failed') {
      return {
        code: ErrorCode.StepFailed,
        message: `step '${outcome.step}' failed: ${outcome.error.message}`,
        details: { step: outcome.step, cause: outcome.error },
      };
    }
    if (outcome.reason === 'cancelled') {
      return serializeError(this.stopReason);
    }
    return serializeError(
      new OrchestratorError(
        ErrorCode.WorkflowTimeout,
        `workflow timed out after ${this.workflow.timeoutMs} ms`,
      ),
    );
  }

  private async finish(
    status: ExecutionStatus,
    output: unknown,
    error?: SerializedError,
  ): Promise<ExecutionRecord> {
    // Another replica owns this execution now; writing a terminal status would clobber its work.
    if (this.abandoned) return this.record;
    const now = this.env.clock.now();
    const started = this.record.startedAt ? Date.parse(this.record.startedAt) : now;
    const patch: ExecutionPatch = {
      status,
      output,
      owner: null,
      completedAt: isoTime(now),
      durationMs: now - started,
    };
    if (error) patch.error = error;
    await this.updateExecution(patch);
    // A cancel that came after the last step but before this end was accepted too late to stop
    // anything: the execution completed, and saying it was cancelled would contradict that.
    if (this.stopped && this.record.cancelReason !== undefined && status !== ExecutionStatus.Completed) {
      this.env.emit('workflow_cancelled', { ...this.eventBase(), reason: this.record.cancelReason });
    }
    const event: WorkflowCompletedEvent = { ...this.eventBase(), status, durationMs: this.record.durationMs };
    if (status === ExecutionStatus.Completed) event.output = output;
    if (error) event.error = error;
    this.env.emit('workflow_completed', event);
    return this.record;
  }

  /** @internal SagaHost */
  scope(): ExpressionScope {
    return {
      input: this.record.input,
      steps: this.views,
      execution: { id: this.record.id, workflow: this.record.workflow, startedAt: this.record.startedAt },
    };
  }

  /** @internal SagaHost: queued behind earlier writes of this execution, so they land in order. */
  saveStep(name: string, step: StepRecord): Promise<void> {
    // A copy: a write may wait behind others (or for its commit) while the step moves on.
    const snapshot: StepRecord = { ...step };
    if (step.compensation) snapshot.compensation = { ...step.compensation };
    if (step.attemptHistory) snapshot.attemptHistory = step.attemptHistory.map((a) => ({ ...a }));
    return this.enqueueWrite(() =>
      this.env.store.saveStep(this.record.id, name, snapshot, this.env.instanceId),
    );
  }

  /** @internal SagaHost */
  eventBase(): ExecutionEventBase {
    return {
      executionId: this.record.id,
      workflow: this.record.workflow,
      timestamp: isoTime(this.env.clock.now()),
    };
  }

  /** @internal SagaHost */
  isoNow(): string {
    return isoTime(this.env.clock.now());
  }

  private updateExecution(patch: ExecutionPatch): Promise<void> {
    Object.assign(this.record, patch);
    return this.enqueueWrite(() =>
      this.env.store.updateExecution(this.record.id, { ...patch }, this.env.instanceId),
    );
  }

  /**
   * Writes land in order. Every write is fenced by this replica's name: once
   * another replica holds the execution, the first write that finds out
   * abandons it here, and writes still queued behind it (a store that is not
   * `ordered`) are dropped; an ordered store has each of them refused by its
   * own fence.
   */
  private enqueueWrite(write: () => Promise<void>): Promise<void> {
    // Refused, so that nothing acts on (or announces) a step of an execution that does not exist.
    if (this.discarded)
      return Promise.reject(new OrchestratorError(ErrorCode.StoreError, 'the execution could not be stored'));
    if (this.abandoned) return Promise.resolve();
    // A store that keeps the order itself takes the write now: it may share a commit with the last.
    if (this.env.store.ordered) {
      const written = this.fenced(write);
      // During a fast start, a write counts as done once the insert is too (it is committed with it
      // or before): so no tool is called and no event emitted for an execution that was not stored.
      const inserted = this.inserted;
      return inserted ? Promise.all([written, inserted]).then(() => undefined) : written;
    }
    const next = this.writes.then(() => (this.abandoned ? undefined : this.fenced(write)));
    this.writes = next.catch(() => undefined);
    return next;
  }

  private async fenced(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (!(error instanceof OrchestratorError && error.code === ErrorCode.LeaseLost)) throw error;
      if (!this.abandoned) {
        this.abandon();
        this.env.emit('execution_abandoned', {
          executionId: this.record.id,
          instanceId: this.env.instanceId,
        });
      }
      throw error;
    }
  }
}

function toStepStatus(outcome: StepOutcome): StepStatus {
  switch (outcome) {
    case 'completed':
      return StepStatus.Completed;
    case 'skipped':
      return StepStatus.Skipped;
    case 'failed':
      return StepStatus.Failed;
    case 'cancelled':
      return StepStatus.Cancelled;
  }
}
