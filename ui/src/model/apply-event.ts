/**
 * What an event of the stream changes in an execution document. The
 * console applies events as they arrive, so a graph node turns `completed`
 * the moment the step does; it reads the document again when the stream
 * ends, and that read is the authority.
 */
import type { ExecutionEvent } from '../api/execution-event.js';
import type { AttemptDocument, ExecutionDocument, SerializedError, StepDocument } from '../api/types.js';

/** The document after `event`. */
export function applyEvent(doc: ExecutionDocument, event: ExecutionEvent): ExecutionDocument {
  const at = event.payload.timestamp;
  const started =
    doc.status === 'queued' ? { status: 'running' as const, startedAt: doc.startedAt ?? at } : {};
  switch (event.name) {
    case 'workflow_started':
      return { ...doc, ...started };
    case 'step_started': {
      const { step, attempt } = event.payload;
      return withStep({ ...doc, ...started }, step, (s) => ({
        ...s,
        status: 'running',
        attempts: attempt,
        startedAt: s.startedAt ?? at,
        attemptHistory: [
          ...(s.attemptHistory ?? []),
          { attempt, startedAt: at, completedAt: null, durationMs: null },
        ],
      }));
    }
    case 'step_retrying': {
      const { step, attempt, error, delayMs } = event.payload;
      return withStep(doc, step, (s) => ({
        ...s,
        status: 'running',
        attempts: attempt,
        error,
        ...closeAttempt(s, at, outcomeOf(error), error, delayMs),
      }));
    }
    case 'step_completed': {
      const { step, attempts, durationMs, result } = event.payload;
      return withStep(doc, step, ({ error: _error, ...s }) => ({
        ...s,
        status: 'completed',
        attempts,
        durationMs,
        completedAt: at,
        result,
        ...closeAttempt(s, at, 'completed'),
      }));
    }
    case 'step_failed': {
      const { step, attempts, status, error } = event.payload;
      return withStep(doc, step, (s) => ({
        ...s,
        status,
        attempts,
        error,
        completedAt: at,
        ...closeAttempt(s, at, status === 'cancelled' ? 'cancelled' : outcomeOf(error), error),
      }));
    }
    case 'step_skipped':
      return withStep(doc, event.payload.step, (s) => ({ ...s, status: 'skipped', completedAt: at }));
    case 'workflow_compensation_started':
      return { ...doc, status: 'compensating' };
    case 'step_compensated': {
      const { step, status, attempts, error } = event.payload;
      return withStep(doc, step, (s) => ({
        ...s,
        status,
        compensation: {
          // What the document said before (its place in the rollback, its start) stays.
          ...s.compensation,
          status: status === 'compensated' ? 'completed' : 'failed',
          attempts,
          completedAt: at,
          ...(error ? { error } : {}),
        },
      }));
    }
    case 'workflow_cancelled':
      // The status changes with the rollback or the end, which have events of their own.
      return doc;
    case 'workflow_completed': {
      const { status, durationMs, output, error } = event.payload;
      return {
        ...doc,
        status,
        durationMs,
        completedAt: at,
        output: output ?? doc.output,
        ...(error ? { error } : {}),
      };
    }
  }
}

/** How an attempt that ended with `error` ended: a timeout says so. */
function outcomeOf(error: SerializedError): AttemptDocument['outcome'] {
  return error.code === 'ORCH_STEP_TIMEOUT' ? 'timed_out' : 'failed';
}

/** The step's attempts with the one in progress ended at `at` (nothing changes when none is). */
function closeAttempt(
  step: StepDocument,
  at: string,
  outcome: AttemptDocument['outcome'],
  error?: SerializedError,
  retryDelayMs?: number,
): Pick<StepDocument, 'attemptHistory'> {
  const history = step.attemptHistory ?? [];
  const last = history.at(-1);
  if (!last || last.completedAt !== null) return history.length > 0 ? { attemptHistory: history } : {};
  const closed: AttemptDocument = {
    ...last,
    completedAt: at,
    durationMs: Date.parse(at) - Date.parse(last.startedAt),
    ...(outcome ? { outcome } : {}),
    ...(error && outcome !== 'completed' ? { error } : {}),
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
  };
  return { attemptHistory: [...history.slice(0, -1), closed] };
}

function withStep(
  doc: ExecutionDocument,
  name: string,
  change: (step: StepDocument) => StepDocument,
): ExecutionDocument {
  const step = doc.steps[name] ?? {
    status: 'pending',
    attempts: 0,
    startedAt: null,
    completedAt: null,
    durationMs: null,
  };
  return { ...doc, steps: { ...doc.steps, [name]: change(step) } };
}
