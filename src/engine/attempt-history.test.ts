import { describe, expect, it } from 'vitest';
import { attemptOutcome, beginAttempt, endAttempt } from './attempt-history.js';
import { ErrorCode, OrchestratorError } from './errors.js';
import { type AttemptRecord, MAX_ATTEMPT_HISTORY } from './execution-store.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

describe('attempt history', () => {
  it('keeps the latest attempts, each with its own times and outcome', () => {
    const history: AttemptRecord[] = [];
    for (let n = 1; n <= MAX_ATTEMPT_HISTORY + 5; n++) {
      beginAttempt(history, n, T0 + n * 100);
      endAttempt(history, T0 + n * 100 + 7, 'failed', { code: 'ORCH_TOOL_ERROR', message: 'no' }, 50);
    }
    expect(history).toHaveLength(MAX_ATTEMPT_HISTORY);
    expect(history[0]).toMatchObject({ attempt: 6, durationMs: 7, outcome: 'failed', retryDelayMs: 50 });
    expect(history.at(-1)?.attempt).toBe(MAX_ATTEMPT_HISTORY + 5);
  });

  it('marks an attempt still open when the next begins as interrupted, and ends an attempt once', () => {
    const history: AttemptRecord[] = [];
    beginAttempt(history, 1, T0);
    beginAttempt(history, 1, T0 + 1000);
    endAttempt(history, T0 + 1010, 'completed');
    endAttempt(history, T0 + 2000, 'failed');
    expect(history.map((a) => [a.attempt, a.outcome, a.completedAt, a.durationMs])).toEqual([
      [1, 'interrupted', null, null],
      [1, 'completed', '2030-01-01T00:00:01.010Z', 10],
    ]);
  });

  it('names a timeout apart from other failures', () => {
    expect(attemptOutcome(new OrchestratorError(ErrorCode.StepTimeout, 'late'))).toBe('timed_out');
    expect(attemptOutcome(new OrchestratorError(ErrorCode.ToolError, 'no'))).toBe('failed');
    expect(attemptOutcome(new Error('socket hang up'))).toBe('failed');
  });
});
