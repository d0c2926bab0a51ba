/**
 * The execution store contract, as one suite any adapter runs: SQLite now,
 * PostgreSQL when it arrives, so both keep exactly the same behaviour.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutionRecord, ExecutionStore, StepRecord } from '../../src/engine/index.js';
import { uuidv7 } from '../../src/engine/index.js';

/** Makes a fresh, empty store; `cleanup` runs after each test. */
export type StoreFactory = () => Promise<{ store: ExecutionStore; cleanup?: () => Promise<void> }>;

let clock = Date.parse('2026-01-01T00:00:00.000Z');

/** An execution record as the engine creates it. */
export function newExecution(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  clock += 1;
  return {
    id: uuidv7(clock),
    workflow: { name: 'wf', version: '1' },
    status: 'queued',
    owner: 'replica-a',
    input: { phone: '+1555', nested: { list: [1, 2, 3] } },
    output: null,
    createdAt: new Date(clock).toISOString(),
    startedAt: null,
    completedAt: null,
    durationMs: null,
    deadlineAt: null,
    steps: {},
    ...overrides,
  };
}

/** Registers the contract suite for one adapter. */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} execution store contract`, () => {
    let store: ExecutionStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    it('keeps workflow versions, the latest registered one current', async () => {
      const definition = (version: string) => ({
        name: 'wf',
        version,
        steps: [{ name: 's', mcp: 'm', action: 't' }],
      });
      await store.saveWorkflow({
        name: 'wf',
        version: '1',
        definition: definition('1'),
        registeredAt: '2026-01-01T00:00:00.000Z',
      });
      await store.saveWorkflow({
        name: 'wf',
        version: '2',
        definition: definition('2'),
        registeredAt: '2026-01-02T00:00:00.000Z',
      });
      await store.saveWorkflow({
        name: 'other',
        version: '1',
        definition: { ...definition('1'), name: 'other' },
        registeredAt: '2026-01-02T00:00:00.000Z',
      });
      expect((await store.listWorkflows()).map((w) => `${w.name}@${w.version}`)).toEqual(['other@1', 'wf@2']);
      // Registering version 1 again makes it current again.
      await store.saveWorkflow({
        name: 'wf',
        version: '1',
        definition: definition('1'),
        registeredAt: '2026-01-03T00:00:00.000Z',
      });
      expect((await store.listWorkflows()).find((w) => w.name === 'wf')?.version).toBe('1');

      expect(await store.deleteWorkflow('wf')).toBe(true);
      expect(await store.deleteWorkflow('wf')).toBe(false);
      expect((await store.listWorkflows()).map((w) => w.name)).toEqual(['other']);
      // Deleted versions stay readable for the executions that use them.
      expect((await store.getWorkflowVersion('wf', '2'))?.definition).toEqual(definition('2'));
      expect(await store.getWorkflowVersion('wf', '9')).toBeUndefined();
    });

    it('creates, patches and reads back an execution with its steps', async () => {
      const record = newExecution();
      expect(await store.createExecution(record)).toEqual({ created: true });
      await store.updateExecution(record.id, {
        status: 'running',
        startedAt: '2026-01-01T00:00:01.000Z',
        deadlineAt: '2026-01-01T00:05:01.000Z',
      });
      const step: StepRecord = {
        status: 'completed',
        attempts: 2,
        startedAt: '2026-01-01T00:00:01.000Z',
        completedAt: '2026-01-01T00:00:02.000Z',
        durationMs: 1000,
        result: { ok: true, list: ['a'] },
        completedSeq: 1,
      };
      await store.saveStep(record.id, 'first', step);
      await store.saveStep(record.id, 'second', {
        ...step,
        status: 'running',
        result: undefined,
        completedSeq: undefined,
      });
      await store.saveStep(record.id, 'second', {
        ...step,
        status: 'failed',
        error: { code: 'X', message: 'broke' },
      });
      await store.updateExecution(record.id, {
        status: 'failed',
        owner: null,
        output: null,
        error: { code: 'ORCH_STEP_FAILED', message: 'step second failed' },
        completedAt: '2026-01-01T00:00:03.000Z',
        durationMs: 2000,
      });
      const loaded = await store.getExecution(record.id);
      expect(loaded).toMatchObject({
        id: record.id,
        status: 'failed',
        owner: null,
        input: record.input,
        deadlineAt: '2026-01-01T00:05:01.000Z',
        durationMs: 2000,
        error: { code: 'ORCH_STEP_FAILED' },
      });
      expect(loaded!.steps.first).toEqual(step);
      expect(loaded!.steps.second).toMatchObject({ status: 'failed', error: { message: 'broke' } });
      expect(await store.getExecution('nope')).toBeUndefined();
    });

    it('returns the holder of an idempotency key instead of a second execution', async () => {
      const first = newExecution({ idempotencyKey: 'key-1', requestHash: 'h1' });
      expect(await store.createExecution(first)).toEqual({ created: true });
      const second = newExecution({ idempotencyKey: 'key-1', requestHash: 'h2' });
      const result = await store.createExecution(second);
      expect(result.created).toBe(false);
      expect(result.created ? undefined : result.existing.id).toBe(first.id);
      expect(await store.getExecution(second.id)).toBeUndefined();
      expect((await store.findByIdempotencyKey('key-1'))?.requestHash).toBe('h1');
      expect(await store.findByIdempotencyKey('key-2')).toBeUndefined();
      // Executions without a key never clash.
      expect((await store.createExecution(newExecution())).created).toBe(true);
      expect((await store.createExecution(newExecution())).created).toBe(true);
    });

    it('lists the unfinished executions a restart resumes, oldest first, with their steps', async () => {
      const made: ExecutionRecord[] = [];
      for (const status of [
        'completed',
        'running',
        'queued',
        'failed',
        'compensating',
        'cancelled',
      ] as const) {
        const record = newExecution({ status });
        made.push(record);
        await store.createExecution(record);
      }
      await store.saveStep(made[1]!.id, 'a', {
        status: 'running',
        attempts: 2,
        startedAt: null,
        completedAt: null,
        durationMs: null,
      });
      const unfinished = await store.listUnfinished();
      expect(unfinished.map((r) => r.status)).toEqual(['running', 'queued', 'compensating']);
      expect(unfinished[0]!.steps.a).toMatchObject({ status: 'running', attempts: 2 });
    });

    it('lists newest first with filters and a cursor that walks every page once', async () => {
      const made: ExecutionRecord[] = [];
      for (let i = 0; i < 7; i++) {
        const record = newExecution({
          workflow: { name: i % 2 ? 'odd' : 'even', version: '1' },
          status: i < 3 ? 'completed' : 'running',
        });
        made.push(record);
        await store.createExecution(record);
        await store.saveStep(record.id, 's', {
          status: 'completed',
          attempts: 1,
          startedAt: null,
          completedAt: null,
          durationMs: 1,
          result: i,
        });
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listExecutions({ limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((r) => r.id));
        for (const item of page.items)
          expect(item.steps.s?.result).toBe(made.findIndex((m) => m.id === item.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(made.map((m) => m.id).reverse());
      const running = await store.listExecutions({ limit: 10, status: 'running' });
      expect(running.items.map((r) => r.id)).toEqual(
        made
          .slice(3)
          .map((m) => m.id)
          .reverse(),
      );
      const odd = await store.listExecutions({ limit: 10, workflow: 'odd', status: 'running' });
      expect(odd.items.map((r) => r.id)).toEqual([made[5]!.id, made[3]!.id]);
      await expect(store.listExecutions({ limit: 2, cursor: '!!not-a-cursor' })).rejects.toMatchObject({
        code: 'ORCH_BAD_REQUEST',
      });
    });
  });
}
