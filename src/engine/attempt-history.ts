/**
 * A step's attempt history (`StepRecord.attemptHistory`): entries opened as
 * attempts begin and closed as they end, the latest MAX_ATTEMPT_HISTORY
 * kept. An entry still open when the next begins was cut short by a stop.
 */
import { ErrorCode, OrchestratorError, type SerializedError } from './errors.js';
import { type AttemptOutcome, type AttemptRecord, MAX_ATTEMPT_HISTORY } from './execution-store.js';
import { isoTime } from './iso-time.js';

/** A running attempt's entry. */
export function openAttempt(attempt: number, startedMs: number): AttemptRecord {
  return { attempt, startedAt: isoTime(startedMs), completedAt: null, durationMs: null };
}

/** Adds the attempt starting now; one still open was cut short by a restart. */
export function beginAttempt(history: AttemptRecord[], attempt: number, now: number): void {
  const last = history.at(-1);
  if (last && last.completedAt === null && last.outcome === undefined) last.outcome = 'interrupted';
  history.push(openAttempt(attempt, now));
  if (history.length > MAX_ATTEMPT_HISTORY) history.splice(0, history.length - MAX_ATTEMPT_HISTORY);
}

/** Closes the attempt in progress, if there is one. */
export function endAttempt(
  history: AttemptRecord[],
  now: number,
  outcome: AttemptOutcome,
  error?: SerializedError,
  retryDelayMs?: number,
): void {
  const last = history.at(-1);
  if (!last || last.completedAt !== null || last.outcome !== undefined) return;
  last.completedAt = isoTime(now);
  last.durationMs = now - Date.parse(last.startedAt);
  last.outcome = outcome;
  if (error) last.error = error;
  if (retryDelayMs !== undefined) last.retryDelayMs = retryDelayMs;
}

export function attemptOutcome(error: unknown): AttemptOutcome {
  return failureOutcome(error instanceof OrchestratorError ? error.code : undefined);
}

/** How an attempt that failed with this error code ended: a timeout says so. */
export function failureOutcome(code: string | undefined): 'timed_out' | 'failed' {
  return code === ErrorCode.StepTimeout ? 'timed_out' : 'failed';
}
