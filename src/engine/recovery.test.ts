/**
 * Resuming what a crashed process left in the store. Each test writes the
 * records exactly as a process that died at that point leaves them, then
 * starts a fresh engine on the same store.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHarness, drive } from '../../test/support/engine-harness.js';
import { respond, ScriptedCaller } from '../../test/support/scripted-caller.js';
import { SqliteExecutionStore } from '../store/sqlite-store.js';
import type { ExecutionRecord, StepRecord } from './execution-store.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-06-01T12:00:00.000Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

const flow = {
  name: 'flow',
  version: '1',
  timeout: 600_000,
  steps: [
    {
      name: 'a',
      mcp: 'm',
      action: 'make',
      params: { n: 1 },
      compensation: { action: 'unmake', params: { id: '$steps.a.result.id' } },
    },
    {
      name: 'b',
      mcp: 'm',
      action: 'make',
      params: { n: 2 },
      retries: 3,
      backoff: { initialDelay: 100, maxDelay: 100 },
      compensation: { action: 'unmake', params: { id: '$steps.b.result.id' } },
    },
    { name: 'c', mcp: 'm', action: 'use', params: { from: '$steps.a.result.id' } },
  ],
};

const done = (result: unknown, seq: number, extra: Partial<StepRecord> = {}): StepRecord => ({
  status: 'completed',
  attempts: 1,
  startedAt: iso(-5000),
  completedAt: iso(-4000),
  durationMs: 1000,
  result,
  completedSeq: seq,
  ...extra,
});

async function crashed(steps: Record<string, StepRecord>, patch: Partial<ExecutionRecord> = {}) {
  const store = new SqliteExecutionStore({ path: ':memory:' });
  await store.saveWorkflow({
    name: 'flow',
    version: '1',
    definition: flow as never,
    registeredAt: iso(-60_000),
  });
  const record: ExecutionRecord = {
    id: '0190a000-0000-7000-8000-000000000001',
    workflow: { name: 'flow', version: '1' },
    status: 'running',
    owner: 'dead-replica',
    input: {},
    output: null,
    createdAt: iso(-6000),
    startedAt: iso(-6000),
    completedAt: null,
    durationMs: null,
    deadlineAt: iso(600_000),
    steps: {},
    ...patch,
  };
  await store.createExecution(record);
  for (const [name, state] of Object.entries(steps)) await store.saveStep(record.id, name, state);
  const caller = new ScriptedCaller({
    make: respond((r) => ({ id: `${r.step}-new` }), 10),
    use: respond((r) => ({ used: r.params.from }), 10),
    unmake: respond((r) => ({ undone: r.params.id }), 10),
  });
  const h = createHarness({ store, instanceId: 'fresh-replica' }, caller);
  return { h, id: record.id, caller };
}

describe('resuming after a crash', () => {
  it('does not call completed steps again, calls the in-flight one again with its key, and finishes', async () => {
    const { h, id, caller } = await crashed({
      a: done({ id: 'a-1' }, 1),
      b: { status: 'running', attempts: 1, startedAt: iso(-3000), completedAt: null, durationMs: null },
    });
    await h.engine.initialize();
    expect((await h.engine.getWorkflowStatus(id))?.owner).toBe('fresh-replica');
    const doc = await drive(h.engine.waitForExecution(id));
    expect(doc).toMatchObject({
      status: 'completed',
      owner: null,
      output: { a: { id: 'a-1' }, b: { id: 'b-new' }, c: { used: 'a-1' } },
    });
    expect(caller.callsOf('a')).toHaveLength(0);
    expect(caller.callsOf('b').map((c) => [c.request.attempt, c.request.idempotencyKey])).toEqual([
      [1, `${id}:b`],
    ]);
    expect(doc!.steps.b).toMatchObject({ status: 'completed', attempts: 1, startedAt: iso(-3000) });
  });

  it('marks an attempt in flight at the crash as interrupted in the step history, and records the new one', async () => {
    const { h, id, caller } = await crashed({
      a: done({ id: 'a-1' }, 1),
      b: {
        status: 'running',
        attempts: 2,
        startedAt: iso(-3000),
        completedAt: null,
        durationMs: null,
        attemptHistory: [
          {
            attempt: 1,
            startedAt: iso(-3000),
            completedAt: iso(-2900),
            durationMs: 100,
            outcome: 'failed',
            error: { code: 'ORCH_MCP_TRANSPORT', message: 'HTTP 503' },
            retryDelayMs: 400,
          },
          { attempt: 2, startedAt: iso(-2500), completedAt: null, durationMs: null },
        ],
      },
    });
    await h.engine.initialize();
    const doc = await drive(h.engine.waitForExecution(id));
    expect(caller.callsOf('b').map((c) => c.request.attempt)).toEqual([2]);
    expect(doc!.steps.b!.attemptHistory!.map((a) => [a.attempt, a.outcome, a.completedAt])).toEqual([
      [1, 'failed', iso(-2900)],
      [2, 'interrupted', null],
      [2, 'completed', doc!.steps.b!.completedAt],
    ]);
  });

  it('keeps a first attempt cut short by the crash as interrupted', async () => {
    const { h, id } = await crashed({
      a: done({ id: 'a-1' }, 1),
      b: { status: 'running', attempts: 1, startedAt: iso(-3000), completedAt: null, durationMs: null },
    });
    await h.engine.initialize();
    const doc = await drive(h.engine.waitForExecution(id));
    expect(doc!.steps.b!.attemptHistory!.map((a) => [a.attempt, a.outcome, a.startedAt])).toEqual([
      [1, 'interrupted', iso(-3000)],
      [1, 'completed', expect.any(String)],
    ]);
  });

  it('waits out a backoff from its stored time, not from zero', async () => {
    const { h, id, caller } = await crashed({
      a: done({ id: 'a-1' }, 1),
      b: {
        status: 'running',
        attempts: 2,
        startedAt: iso(-3000),
        completedAt: null,
        durationMs: null,
        nextAttemptAt: iso(2000),
        error: { code: 'ORCH_MCP_TRANSPORT', message: 'HTTP 503' },
      },
    });
    await h.engine.initialize();
    await vi.advanceTimersByTimeAsync(1900);
    expect(caller.callsOf('b')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(caller.callsOf('b').map((c) => c.request.attempt)).toEqual([3]);
    expect((await drive(h.engine.waitForExecution(id)))?.status).toBe('completed');
  });

  it('keeps the stored deadline: past it, the execution times out and rolls back what was done or in flight', async () => {
    const { h, id, caller } = await crashed(
      {
        a: done({ id: 'a-1' }, 1),
        b: { status: 'running', attempts: 1, startedAt: iso(-3000), completedAt: null, durationMs: null },
      },
      { deadlineAt: iso(-1) },
    );
    await h.engine.initialize();
    const doc = await drive(h.engine.waitForExecution(id));
    expect(doc).toMatchObject({ status: 'timed_out', error: { code: 'ORCH_WORKFLOW_TIMEOUT' } });
    expect(doc!.steps.a!.status).toBe('compensated');
    expect(doc!.steps.b!.status).toBe('compensated');
    expect(caller.calls.filter((c) => !c.request.compensation)).toHaveLength(0);
    expect(caller.calls.filter((c) => c.request.compensation).map((c) => c.request.step)).toEqual(['b', 'a']);
  });

  it('goes on with a rollback where it stopped: done compensations are not repeated', async () => {
    const { h, id, caller } = await crashed(
      {
        a: done({ id: 'a-1' }, 1),
        b: {
          ...done({ id: 'b-1' }, 2),
          status: 'compensated',
          compensation: { status: 'completed', attempts: 1 },
        },
        c: {
          status: 'failed',
          attempts: 1,
          startedAt: iso(-2000),
          completedAt: iso(-1500),
          durationMs: 500,
          error: { code: 'ORCH_TOOL_ERROR', message: 'no' },
        },
      },
      {
        status: 'compensating',
        error: { code: 'ORCH_STEP_FAILED', message: "step 'c' failed: no", details: { step: 'c' } },
      },
    );
    await h.engine.initialize();
    const doc = await drive(h.engine.waitForExecution(id));
    expect(doc).toMatchObject({
      status: 'compensated',
      error: { code: 'ORCH_STEP_FAILED', details: { step: 'c' } },
    });
    expect(caller.calls.map((c) => [c.request.step, c.request.tool, c.request.idempotencyKey])).toEqual([
      ['a', 'unmake', `${id}:a:compensation`],
    ]);
  });

  it('rolls back a cancel that was asked for before the crash', async () => {
    const { h, id } = await crashed({ a: done({ id: 'a-1' }, 1) }, { cancelReason: 'operator' });
    await h.engine.initialize();
    const doc = await drive(h.engine.waitForExecution(id));
    expect(doc).toMatchObject({ status: 'cancelled', steps: { a: { status: 'compensated' } } });
    expect(h.events.find((e) => e.name === 'workflow_cancelled')?.payload.reason).toBe('operator');
  });

  it('starts executions that were still queued, and ends one whose workflow version is gone', async () => {
    const { h, id, caller } = await crashed({}, { status: 'queued', startedAt: null, deadlineAt: null });
    await h.store.createExecution({
      ...(await h.store.getExecution(id))!,
      id: '0190a000-0000-7000-8000-000000000002',
      workflow: { name: 'gone', version: '9' },
      status: 'running',
    });
    await h.engine.initialize();
    const doc = await drive(h.engine.waitForExecution(id));
    expect(doc?.status).toBe('completed');
    expect(caller.callsOf('a')).toHaveLength(1);
    expect(await h.store.getExecution('0190a000-0000-7000-8000-000000000002')).toMatchObject({
      status: 'failed',
      owner: null,
      error: { code: 'ORCH_WORKFLOW_NOT_FOUND' },
    });
  });

  it('ends a queued execution cancelled (through another replica) before it ever ran, calling nothing', async () => {
    const { h, id, caller } = await crashed(
      {},
      { status: 'queued', startedAt: null, deadlineAt: null, cancelReason: 'operator' },
    );
    await h.engine.initialize();
    const doc = await drive(h.engine.waitForExecution(id));
    expect(doc).toMatchObject({ status: 'cancelled' });
    expect(caller.calls).toHaveLength(0);
  });
});
