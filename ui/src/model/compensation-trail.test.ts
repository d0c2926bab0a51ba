import { describe, expect, it } from 'vitest';
import type { ExecutionDocument, StepDocument } from '../api/types.js';
import { compensationTrail } from './compensation-trail.js';

const step = (completedAt: string | null, extra: Partial<StepDocument> = {}): StepDocument => ({
  status: 'completed',
  attempts: 1,
  startedAt: completedAt,
  completedAt,
  durationMs: 1,
  ...extra,
});
const doc = (steps: Record<string, StepDocument>): ExecutionDocument => ({
  id: 'e',
  workflow: { name: 'w', version: '1' },
  status: 'compensated',
  owner: null,
  input: {},
  output: null,
  createdAt: '2030-01-01T00:00:00.000Z',
  startedAt: '2030-01-01T00:00:00.000Z',
  completedAt: '2030-01-01T00:00:01.000Z',
  durationMs: 1000,
  steps,
});
const done = { status: 'completed', attempts: 1 } as const;

describe('compensationTrail', () => {
  it('is the reverse order of completion, later in the written order first on a tie', () => {
    const trail = compensationTrail(
      doc({
        reserve: step('2030-01-01T00:00:00.100Z', { status: 'compensated', compensation: done }),
        charge: step('2030-01-01T00:00:00.300Z', {
          status: 'compensation_failed',
          compensation: { status: 'failed', attempts: 4, error: { code: 'ORCH_TOOL_ERROR', message: 'no' } },
        }),
        ship: step('2030-01-01T00:00:00.200Z', { status: 'compensated', compensation: done }),
        label: step('2030-01-01T00:00:00.200Z', { status: 'compensated', compensation: done }),
        notify: step('2030-01-01T00:00:00.400Z'),
      }),
    );
    expect(trail.map((e) => [e.step, e.status, e.attempts])).toEqual([
      ['charge', 'failed', 4],
      ['label', 'completed', 1],
      ['ship', 'completed', 1],
      ['reserve', 'completed', 1],
    ]);
    expect(trail[0]?.error?.code).toBe('ORCH_TOOL_ERROR');
  });

  it('follows the order the stream announced, with the compensations still to come', () => {
    const trail = compensationTrail(
      doc({
        a: step('2030-01-01T00:00:00.100Z', { status: 'compensated', compensation: done }),
        b: step('2030-01-01T00:00:00.200Z', { status: 'compensating' }),
        c: step('2030-01-01T00:00:00.300Z'),
      }),
      ['c', 'b', 'a'],
    );
    expect(trail.map((e) => [e.step, e.status])).toEqual([
      ['c', 'waiting'],
      ['b', 'running'],
      ['a', 'completed'],
    ]);
  });

  it('puts the compensations that ran in the order the server stored, with their times and results', () => {
    const ran = (order: number, ms: number) =>
      ({
        status: 'completed',
        attempts: 1,
        order,
        startedAt: `2030-01-01T00:00:00.${ms}Z`,
        completedAt: `2030-01-01T00:00:00.${ms + 10}Z`,
        durationMs: 10,
        result: { undone: order },
      }) as const;
    const trail = compensationTrail(
      doc({
        // Completion times say a, b; the server ran b first (what it stored wins).
        a: step('2030-01-01T00:00:00.300Z', { status: 'compensated', compensation: ran(2, 600) }),
        b: step('2030-01-01T00:00:00.100Z', { status: 'compensated', compensation: ran(1, 500) }),
        c: step('2030-01-01T00:00:00.200Z'),
      }),
      ['c', 'a', 'b'],
    );
    expect(trail.map((e) => [e.step, e.order, e.durationMs, e.result])).toEqual([
      ['b', 1, 10, { undone: 1 }],
      ['a', 2, 10, { undone: 2 }],
      ['c', undefined, undefined, undefined],
    ]);
  });
});
