import { describe, expect, it } from 'vitest';
import type { ExecutionEvent } from '../api/execution-event.js';
import type { ExecutionDocument } from '../api/types.js';
import { applyEvent } from './apply-event.js';

const workflow = { name: 'w', version: '1' };
const base = { executionId: 'e1', workflow };
const pending = {
  status: 'pending',
  attempts: 0,
  startedAt: null,
  completedAt: null,
  durationMs: null,
} as const;
const queued: ExecutionDocument = {
  id: 'e1',
  workflow,
  status: 'queued',
  owner: 'r1',
  input: {},
  output: null,
  createdAt: '2030-01-01T00:00:00.000Z',
  startedAt: null,
  completedAt: null,
  durationMs: null,
  steps: { fetch: { ...pending }, send: { ...pending } },
};
const error = { code: 'ORCH_TOOL_ERROR', message: 'busy' };
const at = (ms: number) => new Date(Date.parse('2030-01-01T00:00:00.000Z') + ms).toISOString();

/** A run: `fetch` fails once and is retried, then `send` is called off by a failure elsewhere. */
const events: ExecutionEvent[] = [
  { name: 'workflow_started', payload: { ...base, timestamp: at(1), input: {} } },
  { name: 'step_started', payload: { ...base, timestamp: at(2), step: 'fetch', attempt: 1 } },
  {
    name: 'step_retrying',
    payload: { ...base, timestamp: at(12), step: 'fetch', attempt: 1, delayMs: 200, error },
  },
  { name: 'step_started', payload: { ...base, timestamp: at(212), step: 'fetch', attempt: 2 } },
  {
    name: 'step_completed',
    payload: { ...base, timestamp: at(220), step: 'fetch', attempts: 2, durationMs: 218, result: { id: 7 } },
  },
  { name: 'step_started', payload: { ...base, timestamp: at(221), step: 'send', attempt: 1 } },
  {
    name: 'step_failed',
    payload: { ...base, timestamp: at(230), step: 'send', attempts: 1, status: 'failed', error },
  },
  {
    name: 'workflow_completed',
    payload: { ...base, timestamp: at(231), status: 'failed', durationMs: 230, error },
  },
];

describe('applyEvent', () => {
  it('moves the document along with the events, the way the server will store it', () => {
    const seen: string[] = [];
    let doc = queued;
    for (const event of events) {
      doc = applyEvent(doc, event);
      seen.push(`${doc.status}:${doc.steps.fetch?.status}:${doc.steps.send?.status}`);
    }
    expect(seen).toEqual([
      'running:pending:pending',
      'running:running:pending',
      'running:running:pending',
      'running:running:pending',
      'running:completed:pending',
      'running:completed:running',
      'running:completed:failed',
      'failed:completed:failed',
    ]);
    expect(doc.steps.fetch).toEqual({
      status: 'completed',
      attempts: 2,
      startedAt: at(2),
      completedAt: at(220),
      durationMs: 218,
      result: { id: 7 },
      attemptHistory: [
        {
          attempt: 1,
          startedAt: at(2),
          completedAt: at(12),
          durationMs: 10,
          outcome: 'failed',
          error,
          retryDelayMs: 200,
        },
        { attempt: 2, startedAt: at(212), completedAt: at(220), durationMs: 8, outcome: 'completed' },
      ],
    });
    expect(doc).toMatchObject({ startedAt: at(1), completedAt: at(231), durationMs: 230, error });
  });

  it('records compensations with their outcome', () => {
    const doc = applyEvent(
      applyEvent(queued, {
        name: 'workflow_compensation_started',
        payload: { ...base, timestamp: at(5), reason: 'failed', steps: ['fetch'] },
      }),
      {
        name: 'step_compensated',
        payload: { ...base, timestamp: at(9), step: 'fetch', status: 'compensated', attempts: 2 },
      },
    );
    expect(doc.status).toBe('compensating');
    expect(doc.steps.fetch).toMatchObject({
      status: 'compensated',
      compensation: { status: 'completed', attempts: 2 },
    });
  });
});

describe('attempt history', () => {
  it('adds to what the document already holds: an attempt seen start to end, a timeout named as such', () => {
    // Read while `fetch` was in its second attempt: the first is in the document already.
    const read: ExecutionDocument = {
      ...events.slice(0, 4).reduce(applyEvent, queued),
    };
    const later = events.slice(4).reduce(applyEvent, read);
    expect(later.steps.fetch?.attemptHistory?.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    const timeout = { code: 'ORCH_STEP_TIMEOUT', message: 'attempt 1 timed out after 5 ms' };
    const timedOut = applyEvent(later, {
      name: 'step_failed',
      payload: { ...base, timestamp: at(240), step: 'send', attempts: 1, status: 'failed', error: timeout },
    });
    // `send` ended once already (at 230): a second end changes nothing in its attempts.
    expect(timedOut.steps.send?.attemptHistory).toEqual(later.steps.send?.attemptHistory);
    const cancelled = applyEvent(
      applyEvent(queued, {
        name: 'step_started',
        payload: { ...base, timestamp: at(1), step: 'send', attempt: 1 },
      }),
      {
        name: 'step_failed',
        payload: { ...base, timestamp: at(6), step: 'send', attempts: 1, status: 'failed', error: timeout },
      },
    );
    expect(cancelled.steps.send?.attemptHistory).toEqual([
      {
        attempt: 1,
        startedAt: at(1),
        completedAt: at(6),
        durationMs: 5,
        outcome: 'timed_out',
        error: timeout,
      },
    ]);
    // A step that never started has no attempts.
    expect(queued.steps.send?.attemptHistory).toBeUndefined();
  });
});
