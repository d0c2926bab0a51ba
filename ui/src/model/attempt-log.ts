/**
 * The attempts of each step, with their times, as the event stream tells
 * them. The execution document keeps a step's attempt count and its first
 * start and last end only, so attempts are known one by one for what the
 * console saw happen; before that, a step is one span.
 */
import type { ExecutionEvent } from '../api/execution-event.js';
import type { ExecutionDocument, SerializedError } from '../api/types.js';

/** One attempt of a step, or (`attempts` > 1) several the console did not see one by one. */
export interface AttemptSpan {
  /** First attempt number of the span. */
  attempt: number;
  /** Attempts the span stands for: 1 for a seen attempt. */
  attempts: number;
  startedAt: string;
  /** Unset while the attempt runs. */
  endedAt?: string;
  outcome?: 'completed' | 'failed' | 'cancelled' | 'skipped';
  error?: SerializedError;
  /** Backoff before the next attempt, ms. */
  retryDelayMs?: number;
}

/** Seen attempts by step name. */
export type AttemptLog = Readonly<Record<string, readonly AttemptSpan[]>>;

/** The log after `event`. */
export function recordAttempt(log: AttemptLog, event: ExecutionEvent): AttemptLog {
  const at = event.payload.timestamp;
  switch (event.name) {
    case 'step_started': {
      const { step, attempt } = event.payload;
      return { ...log, [step]: [...(log[step] ?? []), { attempt, attempts: 1, startedAt: at }] };
    }
    case 'step_retrying': {
      const { step, error, delayMs } = event.payload;
      return closeLast(log, step, { endedAt: at, outcome: 'failed', error, retryDelayMs: delayMs });
    }
    case 'step_completed':
      return closeLast(log, event.payload.step, { endedAt: at, outcome: 'completed' });
    case 'step_failed': {
      const { step, status, error } = event.payload;
      return closeLast(log, step, {
        endedAt: at,
        outcome: status === 'cancelled' ? 'cancelled' : 'failed',
        error,
      });
    }
    default:
      return log;
  }
}

/**
 * The spans of one step: the attempts seen, after one span standing for
 * those before them (from the document's times) when the console came in late.
 */
export function stepSpans(doc: ExecutionDocument, name: string, log: AttemptLog): AttemptSpan[] {
  const step = doc.steps[name];
  const seen = log[name] ?? [];
  if (!step?.startedAt) return [...seen];
  const outcome = (): AttemptSpan['outcome'] => {
    switch (step.status) {
      case 'completed':
      case 'compensating':
      case 'compensated':
      case 'compensation_failed':
        return 'completed';
      case 'failed':
        return 'failed';
      case 'cancelled':
        return 'cancelled';
      case 'skipped':
        return 'skipped';
      case 'pending':
      case 'running':
        return undefined;
    }
  };
  const first = seen[0];
  if (!first) {
    const ended = outcome();
    return [
      {
        attempt: 1,
        attempts: Math.max(step.attempts, 1),
        startedAt: step.startedAt,
        ...(step.completedAt ? { endedAt: step.completedAt } : {}),
        ...(ended ? { outcome: ended } : {}),
        ...(step.error ? { error: step.error } : {}),
      },
    ];
  }
  if (first.attempt <= 1) return [...seen];
  const earlier: AttemptSpan = {
    attempt: 1,
    attempts: first.attempt - 1,
    startedAt: step.startedAt,
    endedAt: first.startedAt,
    outcome: 'failed',
  };
  return [earlier, ...seen];
}

function closeLast(
  log: AttemptLog,
  step: string,
  end: Omit<AttemptSpan, 'attempt' | 'attempts' | 'startedAt'>,
) {
  const spans = log[step] ?? [];
  const last = spans.at(-1);
  if (!last || last.endedAt) return log;
  return { ...log, [step]: [...spans.slice(0, -1), { ...last, ...end }] };
}
