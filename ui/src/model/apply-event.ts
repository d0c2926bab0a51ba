/**
 * What an event of the stream changes in an execution document. The
 * console applies events as they arrive, so a graph node turns `completed`
 * the moment the step does; it reads the document again when the stream
 * ends, and that read is the authority.
 */
import { beginAttempt, endAttempt, failureOutcome } from '../../../src/engine/attempt-history.js';
import type { ExecutionEvent } from '../api/execution-event.js';
import type { AttemptDocument, ExecutionDocument, StepDocument } from '../api/types.js';

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
        ...withAttempts(s, (history) => beginAttempt(history, attempt, Date.parse(at))),
      }));
    }
    case 'step_retrying': {
      const { step, attempt, error, delayMs } = event.payload;
      return withStep(doc, step, (s) => ({
        ...s,
        status: 'running',
        attempts: attempt,
        error,
        ...withAttempts(s, (history) =>
          endAttempt(history, Date.parse(at), failureOutcome(error.code), error, delayMs),
        ),
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
        ...withAttempts(s, (history) => endAttempt(history, Date.parse(at), 'completed')),
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
        ...withAttempts(s, (history) =>
          endAttempt(
            history,
            Date.parse(at),
            status === 'cancelled' ? 'cancelled' : failureOutcome(error.code),
            error,
          ),
        ),
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

/**
 * The step's attempts after `change` (the engine's own bookkeeping, so the
 * console keeps them as the server stores them), on a copy: the document
 * read before is not changed in place.
 */
function withAttempts(
  step: StepDocument,
  change: (history: AttemptDocument[]) => void,
): Pick<StepDocument, 'attemptHistory'> {
  const history = (step.attemptHistory ?? []).map((a) => ({ ...a }));
  change(history);
  return history.length > 0 ? { attemptHistory: history } : {};
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
