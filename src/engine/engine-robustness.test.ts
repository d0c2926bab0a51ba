/**
 * The engine under pressure: races between cancels and completing calls,
 * concurrent starts and registrations, a failing store, callers that ignore
 * their signal, and the rule that every event follows its store write.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHarness, drive, until } from '../../test/support/engine-harness.js';
import {
  fail,
  failTimes,
  hang,
  respond,
  ScriptedCaller,
  sleep,
  transient,
} from '../../test/support/scripted-caller.js';
import { SqliteExecutionStore } from '../store/sqlite-store.js';
import type { OrchestratorError } from './errors.js';
import type { ExecutionRecord } from './execution-store.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const one = (action: string, extra: Record<string, unknown> = {}) => ({
  name: 'w',
  version: '1',
  steps: [{ name: 's', mcp: 'm', action, ...extra }],
});

describe('limits under concurrency', () => {
  it('does not overfill the queue when starts race', async () => {
    const h = createHarness(
      { maxConcurrentWorkflows: 1, maxQueuedWorkflows: 2 },
      new ScriptedCaller({ t: hang() }),
    );
    await h.engine.registerWorkflow(one('t'));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => h.engine.startWorkflow('w', { i })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as OrchestratorError).code)).toEqual(
      Array(7).fill('ORCH_QUEUE_FULL'),
    );
    expect(h.engine.getMetrics()).toMatchObject({ activeWorkflows: 1, queuedWorkflows: 2 });
  });

  it('keeps MAX_CONCURRENT_STEPS even when a caller is slow to honour its signal', async () => {
    // Each call ignores its abort for 300 ms; attempts time out after 100 ms and are retried.
    const stubborn = new ScriptedCaller({
      t: () => sleep(400, new AbortController().signal).then(() => 'late'),
    });
    const h = createHarness({ maxConcurrentSteps: 2 }, stubborn);
    await h.engine.registerWorkflow({
      name: 'wide',
      version: '1',
      steps: Array.from({ length: 6 }, (_, i) => ({
        name: `s${i}`,
        mcp: 'm',
        action: 't',
        parallel: i > 0,
        timeout: 100,
        retries: 1,
        backoff: { initialDelay: 1, maxDelay: 1 },
      })),
    });
    await drive(h.engine.executeWorkflow('wide', {}));
    expect(stubborn.calls.length).toBeGreaterThan(2);
    expect(stubborn.maxInFlight).toBe(2);
  });

  it('serialises registrations: two contents under one version never both win', async () => {
    const h = createHarness();
    const a = { ...one('a'), description: 'first' };
    const b = { ...one('a'), description: 'second' };
    const results = await Promise.allSettled([h.engine.registerWorkflow(a), h.engine.registerWorkflow(b)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(((results[1] as PromiseRejectedResult).reason as OrchestratorError).code).toBe(
      'ORCH_WORKFLOW_CONFLICT',
    );
    expect((await h.store.getWorkflowVersion('w', '1'))?.definition.description).toBe('first');
  });

  it('lets the store refuse other content under a stored version', async () => {
    const store = new SqliteExecutionStore({ path: ':memory:' });
    const base = { name: 'w', version: '1', registeredAt: '2026-01-01T00:00:00.000Z' };
    await store.saveWorkflow({ ...base, definition: one('a') });
    await store.saveWorkflow({ ...base, definition: JSON.parse(JSON.stringify(one('a'))) });
    await expect(store.saveWorkflow({ ...base, definition: one('b') })).rejects.toMatchObject({
      code: 'ORCH_WORKFLOW_CONFLICT',
    });
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter and stays under maxDelay', async () => {
    const caller = new ScriptedCaller({ t: failTimes(6, transient, respond('ok')) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow(
      one('t', { retries: 6, backoff: { initialDelay: 100, maxDelay: 1_000_000 } }),
    );
    await drive(h.engine.executeWorkflow('w', {}), 10_000_000, 50);
    const delays = h.events.filter((e) => e.name === 'step_retrying').map((e) => e.payload.delayMs as number);
    expect(delays).toHaveLength(6);
    expect(new Set(delays).size).toBeGreaterThanOrEqual(5);
    expect(delays.every((d) => d <= 1_000_000)).toBe(true);
    expect(delays[4]! + delays[5]!).toBeGreaterThan(4 * (delays[0]! + delays[1]!));

    const capped = createHarness({}, new ScriptedCaller({ t: failTimes(4, transient, respond('ok')) }));
    await capped.engine.registerWorkflow(
      one('t', { retries: 4, backoff: { initialDelay: 1000, maxDelay: 1500 } }),
    );
    await drive(capped.engine.executeWorkflow('w', {}), 100_000, 50);
    const cappedDelays = capped.events
      .filter((e) => e.name === 'step_retrying')
      .map((e) => e.payload.delayMs as number);
    expect(cappedDelays.every((d) => d <= 1500)).toBe(true);
  });
});

describe('store failures', () => {
  it('ends the execution instead of hanging when the store refuses a write', async () => {
    const store = new SqliteExecutionStore({ path: ':memory:' });
    const saveStep = store.saveStep.bind(store);
    store.saveStep = async (id, name, record) => {
      if (name === 'b' && record.status === 'running') throw new Error('disk full');
      return saveStep(id, name, record);
    };
    const caller = new ScriptedCaller({ t: respond('ok') });
    const h = createHarness({ store }, caller);
    await h.engine.registerWorkflow({
      name: 'w',
      version: '1',
      steps: [
        { name: 'a', mcp: 'm', action: 't' },
        { name: 'b', mcp: 'm', action: 't', retries: 3 },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('w', {}));
    expect(doc.status).toBe('failed');
    expect(doc.steps.b).toMatchObject({ status: 'failed', error: { code: 'ORCH_STORE_ERROR' } });
    expect(doc.steps.b!.error!.message).toContain('disk full');
    // Never called: an unrecorded attempt must not act, nor be retried.
    expect(caller.callsOf('b')).toHaveLength(0);
    expect(h.engine.getMetrics().activeWorkflows).toBe(0);
    expect(await h.engine.drain(10)).toBe(true);
  });
});

describe('write order', () => {
  /** Runs two parallel steps on a SQLite store that logs when each step write is issued and committed. */
  async function stepWrites(ordered: boolean): Promise<{ log: string[]; doc: ExecutionRecord }> {
    const store = new SqliteExecutionStore({ path: ':memory:' });
    // As a store that must be waited on (a connection pool) would say.
    if (!ordered) Object.defineProperty(store, 'ordered', { value: false });
    const log: string[] = [];
    const logged = <T>(label: string, write: Promise<T>) => {
      log.push(`issue ${label}`);
      return write.then((value) => {
        log.push(`commit ${label}`);
        return value;
      });
    };
    const { createExecution, updateExecution, saveStep } = {
      createExecution: store.createExecution.bind(store),
      updateExecution: store.updateExecution.bind(store),
      saveStep: store.saveStep.bind(store),
    };
    store.createExecution = (record) => logged(`create:${record.status}`, createExecution(record));
    store.updateExecution = (id, patch) => logged(`update:${patch.status}`, updateExecution(id, patch));
    store.saveStep = (id, name, record) => logged(`${name}:${record.status}`, saveStep(id, name, record));
    const h = createHarness({ store }, new ScriptedCaller({ t: respond('ok') }));
    await h.engine.registerWorkflow({
      name: 'w',
      version: '1',
      steps: [
        { name: 'a', mcp: 'm', action: 't' },
        { name: 'b', mcp: 'm', action: 't', parallel: true },
      ],
    });
    // Real timers: the order of writes and commits is the subject, not time.
    vi.useRealTimers();
    const { id } = await h.engine.executeWorkflow('w', {});
    return { log, doc: (await store.getExecution(id))! };
  }

  it('issues the next write of an execution before the last commits when the store keeps the order', async () => {
    const { log, doc } = await stepWrites(true);
    // Stored running at once, and both steps' "running" writes go out with the insert: one commit.
    expect(log.slice(0, 4)).toEqual([
      'issue create:running',
      'issue a:running',
      'issue b:running',
      'commit create:running',
    ]);
    expect(log.filter((l) => l.startsWith('issue update'))).toEqual(['issue update:completed']);
    expect(doc.steps.a?.status).toBe('completed');
    expect(doc.steps.b?.status).toBe('completed');
  });

  it('waits for each write to commit before the next when the store does not keep the order', async () => {
    const { log, doc } = await stepWrites(false);
    expect(log.slice(0, 4)).toEqual([
      'issue create:queued',
      'commit create:queued',
      'issue update:running',
      'commit update:running',
    ]);
    expect(log.indexOf('issue b:running')).toBeGreaterThan(log.indexOf('commit a:running'));
    for (let i = 1; i < log.length; i++) {
      if (log[i]!.startsWith('issue')) expect(log[i - 1]!.startsWith('commit')).toBe(true);
    }
    expect(doc.steps.a?.status).toBe('completed');
    expect(doc.steps.b?.status).toBe('completed');
  });
});

describe('fast start', () => {
  // 'refused': nothing written (the steps' writes then fail too, on the foreign key); 'unconfirmed':
  // written but reported failed, so only the engine's own wait keeps the steps from acting.
  it.each(['refused', 'unconfirmed'])(
    'discards an execution whose insert is %s: the caller gets the error, no tool is called, nothing is emitted',
    async (mode) => {
      const store = new SqliteExecutionStore({ path: ':memory:' });
      const createExecution = store.createExecution.bind(store);
      let refuse = true;
      store.createExecution = (record) => {
        if (!refuse) return createExecution(record);
        if (mode === 'refused') return Promise.reject(new Error('disk I/O error'));
        return createExecution(record).then(() => Promise.reject(new Error('disk I/O error')));
      };
      const h = createHarness({ store }, new ScriptedCaller({ t: respond('ok') }));
      await h.engine.registerWorkflow({
        name: 'w',
        version: '1',
        steps: [
          { name: 'a', mcp: 'm', action: 't' },
          { name: 'b', mcp: 'm', action: 't', parallel: true },
        ],
      });
      await expect(drive(h.engine.startWorkflow('w', {}))).rejects.toThrow('disk I/O error');
      await until(() => h.engine.getMetrics().activeWorkflows === 0);
      expect(h.caller.callsOf('t')).toHaveLength(0);
      expect(h.events).toEqual([]);
      expect(h.engine.getMetrics().totalWorkflows).toBe(0);
      if (mode === 'refused') expect((await store.listExecutions({ limit: 10 })).items).toEqual([]);
      refuse = false;
      const doc = await drive(h.engine.executeWorkflow('w', {}));
      expect(doc.status).toBe('completed');
      expect(h.eventNames(doc.id)[0]).toBe('workflow_started');
      expect(h.engine.getMetrics().totalWorkflows).toBe(1);
    },
  );
});

describe('cancel racing the end', () => {
  it('announces workflow_cancelled only for an execution that the cancel stopped', async () => {
    let landedLate = 0;
    for (let hops = 0; hops <= 40; hops += 2) {
      const h = createHarness({}, new ScriptedCaller({ t: respond('ok') }));
      await h.engine.registerWorkflow({
        name: 'w',
        version: '1',
        output: { value: '$steps.s.result' },
        steps: [{ name: 's', mcp: 'm', action: 't' }],
      });
      const { execution } = await h.engine.startWorkflow('w', {});
      h.engine.on('step_completed', () => {
        // The cancel lands `hops` microtasks after the last step ended: before or after the forward phase did.
        let p: Promise<unknown> = Promise.resolve();
        for (let i = 0; i < hops; i++) p = p.then(() => undefined);
        void p.then(() => h.engine.cancelWorkflow(execution.id, 'late').catch(() => undefined));
      });
      const doc = (await drive(h.engine.waitForExecution(execution.id)))!;
      const cancelledEvent = h.eventNames(execution.id).includes('workflow_cancelled');
      expect({ hops, status: doc.status, cancelledEvent }).toEqual({
        hops,
        status: doc.status,
        cancelledEvent: doc.status !== 'completed',
      });
      if (doc.status === 'completed' && (await h.store.getExecution(execution.id))?.cancelReason)
        landedLate += 1;
    }
    // Some cancels came after the forward phase but before the end: accepted, yet too late to stop it.
    expect(landedLate).toBeGreaterThan(0);
  });
});

describe('cancel racing a completing call', () => {
  it.each([0, 1, 2, 3, 5, 8, 12, 16])(
    'compensates a step that completed %i microtasks before the cancel',
    async (hops) => {
      let executionId = '';
      const h = createHarness();
      h.caller
        .on('reserve', async () => {
          // Cancel lands `hops` microtasks after the tool has answered.
          let p: Promise<unknown> = Promise.resolve();
          for (let i = 0; i < hops; i++) p = p.then(() => undefined);
          void p.then(() => h.engine.cancelWorkflow(executionId, 'race'));
          return { id: 'r-1' };
        })
        .on('release', respond('released'))
        .on('next', respond('never'));
      await h.engine.registerWorkflow({
        name: 'race',
        version: '1',
        steps: [
          { name: 'reserve', mcp: 'm', action: 'reserve', compensation: { action: 'release' } },
          { name: 'next', mcp: 'm', action: 'next' },
        ],
      });
      const { execution } = await h.engine.startWorkflow('race', {});
      executionId = execution.id;
      const doc = await drive(h.engine.waitForExecution(execution.id));
      expect(doc?.status).toBe('cancelled');
      expect(doc?.steps.reserve).toMatchObject({ status: 'compensated', result: { id: 'r-1' } });
      expect(h.caller.callsOf('reserve', true)).toHaveLength(1);
      expect(h.caller.callsOf('next')).toHaveLength(0);
    },
  );

  it('waits for an aborted in-flight call to settle before compensating it', async () => {
    const h = createHarness();
    // Honours its signal only 100 ms late, as a slow network would.
    h.caller
      .on('slow', async (_r, signal) => {
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await sleep(100, new AbortController().signal);
        throw signal.reason;
      })
      .on('undo', respond('undone'))
      .on('boom', fail(transient, 10));
    await h.engine.registerWorkflow({
      name: 'late',
      version: '1',
      steps: [
        { name: 'slow', mcp: 'm', action: 'slow', compensation: { action: 'undo' } },
        { name: 'boom', mcp: 'm', action: 'boom', parallel: true },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('late', {}));
    expect(doc.status).toBe('compensated');
    const original = h.caller.callsOf('slow')[0]!;
    const undo = h.caller.callsOf('slow', true)[0]!;
    expect(undo.startedAt).toBeGreaterThanOrEqual(original.endedAt!);
  });
});

describe('compensation', () => {
  it('gives each compensation attempt its own timeout and retries', async () => {
    const caller = new ScriptedCaller({ ok: respond('done'), boom: fail(transient), undo: hang() });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'ct',
      version: '1',
      steps: [
        {
          name: 'a',
          mcp: 'm',
          action: 'ok',
          compensation: {
            action: 'undo',
            timeout: 500,
            retries: 2,
            backoff: { initialDelay: 10, maxDelay: 10 },
          },
        },
        { name: 'b', mcp: 'm', action: 'boom' },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('ct', {}));
    expect(doc.status).toBe('compensation_failed');
    expect(doc.steps.a!.compensation).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { code: 'ORCH_STEP_TIMEOUT' },
    });
    expect(caller.callsOf('a', true).map((c) => c.endedAt! - c.startedAt)).toEqual([500, 500, 500]);
    expect(caller.callsOf('a', true).map((c) => c.outcome)).toEqual(['aborted', 'aborted', 'aborted']);
  });

  it('ignores a second cancel while the execution rolls back', async () => {
    const caller = new ScriptedCaller({ ok: respond('done'), wait: hang(), undo: respond('undone', 1000) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'cc',
      version: '1',
      steps: [
        { name: 'a', mcp: 'm', action: 'ok', compensation: { action: 'undo' } },
        { name: 'b', mcp: 'm', action: 'wait' },
      ],
    });
    const { execution } = await h.engine.startWorkflow('cc', {});
    await until(() => caller.callsOf('b').length === 1);
    await h.engine.cancelWorkflow(execution.id, 'first');
    await until(() => caller.callsOf('a', true).length === 1);
    const again = await h.engine.cancelWorkflow(execution.id, 'second');
    expect(again.status).toBe('compensating');
    const doc = await drive(h.engine.waitForExecution(execution.id));
    expect(doc?.status).toBe('cancelled');
    expect((await h.store.getExecution(execution.id))?.cancelReason).toBe('first');
    expect(h.engine.getMetrics()).toMatchObject({ cancelledWorkflows: 1, failedWorkflows: 0 });
  });
});

describe('events follow their store writes', () => {
  it('has the store hold what each event announces when it is emitted', async () => {
    const caller = new ScriptedCaller({
      flaky: failTimes(1, transient, respond('ok')),
      check: respond({ go: false }),
      wait: hang(),
      undo: respond('undone'),
    });
    const h = createHarness({}, caller);
    const seen: Promise<[string, ExecutionRecord | undefined]>[] = [];
    // better-sqlite3 reads synchronously, so each read is a snapshot at the moment of the event.
    for (const name of [
      'step_retrying',
      'step_skipped',
      'step_compensated',
      'workflow_cancelled',
      'step_completed',
    ] as const) {
      const listener = (e: { executionId: string }) => {
        seen.push(
          h.store.getExecution(e.executionId).then((r): [string, ExecutionRecord | undefined] => [name, r]),
        );
      };
      (h.engine as unknown as NodeJS.EventEmitter).on(name, listener);
    }
    await h.engine.registerWorkflow({
      name: 'ev',
      version: '1',
      steps: [
        { name: 'flaky', mcp: 'm', action: 'flaky', retries: 1, compensation: { action: 'undo' } },
        { name: 'maybe', mcp: 'm', action: 'check', condition: false },
        { name: 'wait', mcp: 'm', action: 'wait', dependsOn: ['flaky'] },
      ],
    });
    const { execution } = await h.engine.startWorkflow('ev', {});
    await until(() => caller.callsOf('wait').length === 1);
    await h.engine.cancelWorkflow(execution.id, 'enough');
    await drive(h.engine.waitForExecution(execution.id));
    const snapshots = new Map<string, ExecutionRecord | undefined>();
    for (const [name, record] of await Promise.all(seen))
      if (!snapshots.has(name)) snapshots.set(name, record);
    expect(snapshots.get('step_retrying')?.steps.flaky).toMatchObject({
      status: 'running',
      error: { code: 'ORCH_MCP_TRANSPORT' },
      nextAttemptAt: expect.any(String),
    });
    expect(snapshots.get('step_completed')?.steps.flaky?.status).toBe('completed');
    expect(snapshots.get('step_skipped')?.steps.maybe?.status).toBe('skipped');
    expect(snapshots.get('step_compensated')?.steps.flaky).toMatchObject({
      status: 'compensated',
      compensation: { status: 'completed', attempts: 1 },
    });
    expect(snapshots.get('workflow_cancelled')).toMatchObject({
      status: 'cancelled',
      cancelReason: 'enough',
    });
  });
});
