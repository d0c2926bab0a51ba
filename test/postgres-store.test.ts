/**
 * The execution store contract on a real PostgreSQL (a throwaway cluster
 * started by the test setup), the same suite SQLite runs; and the engine on
 * it end to end.
 */

import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { WorkflowEngine } from '../src/engine/index.js';
import { OrchestrationEngine } from '../src/index.js';
import { openStore, PostgresExecutionStore } from '../src/store/index.js';
import { eventually } from './support/eventually.js';
import { freshDatabase } from './support/postgres-cluster.js';
import { fail, hang, invalidParams, respond, ScriptedCaller } from './support/scripted-caller.js';
import { describeStoreContract } from './support/store-contract.js';

/** Runs one statement on its own connection: what another replica, or time, does to the rows. */
async function sql(url: string, text: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

describeStoreContract('PostgreSQL', async () => ({
  store: new PostgresExecutionStore({ connectionString: await freshDatabase(inject('postgresUrl')) }),
}));

describe('PostgreSQL store', () => {
  it('migrates once when several replicas start together, and keeps records across reconnects', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const replicas = [0, 1, 2].map(() => new PostgresExecutionStore({ connectionString: url }));
    expect(await Promise.all(replicas.map((r) => r.listWorkflows()))).toEqual([[], [], []]);

    const engine = new OrchestrationEngine({
      store: replicas[0]!,
      stepCaller: new ScriptedCaller({ t: respond({ ok: 1 }) }),
    });
    await engine.registerWorkflow({ name: 'w', version: '1', steps: [{ name: 's', mcp: 'm', action: 't' }] });
    const done = await engine.executeWorkflow('w', { x: 1 }, { idempotencyKey: 'pg-key' });
    expect(done).toMatchObject({ status: 'completed', output: { s: { ok: 1 } } });
    // Another replica reads what the first wrote.
    expect(await replicas[1]!.getExecution(done.id)).toMatchObject({
      status: 'completed',
      steps: { s: { result: { ok: 1 } } },
    });
    expect((await replicas[2]!.findByIdempotencyKey('pg-key'))?.id).toBe(done.id);
    for (const r of replicas) await r.close();

    const reopened = openStore(url);
    expect((await reopened.listWorkflows()).map((w) => w.name)).toEqual(['w']);
    await reopened.close();
  });

  it('resumes on restart only the executions this replica owned', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const store = new PostgresExecutionStore({ connectionString: url });
    const definition = { name: 'w', version: '1', steps: [{ name: 's', mcp: 'm', action: 't' }] };
    await store.saveWorkflow({
      name: 'w',
      version: '1',
      definition: definition as never,
      registeredAt: new Date().toISOString(),
    });
    const base = {
      workflow: { name: 'w', version: '1' },
      status: 'running' as const,
      input: {},
      output: null,
      createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      completedAt: null,
      durationMs: null,
      deadlineAt: new Date(Date.now() + 60_000).toISOString(),
      steps: {},
    };
    await store.createExecution({ ...base, id: '0190b000-0000-7000-8000-000000000001', owner: 'replica-a' });
    await store.createExecution({ ...base, id: '0190b000-0000-7000-8000-000000000002', owner: 'replica-b' });
    const caller = new ScriptedCaller({ t: respond('ok') });
    const engine = new WorkflowEngine({ store, stepCaller: caller, instanceId: 'replica-a' });
    await engine.initialize();
    expect(await engine.waitForExecution('0190b000-0000-7000-8000-000000000001', 10_000)).toMatchObject({
      status: 'completed',
    });
    expect(caller.calls.map((c) => c.request.executionId)).toEqual(['0190b000-0000-7000-8000-000000000001']);
    expect(await store.getExecution('0190b000-0000-7000-8000-000000000002')).toMatchObject({
      status: 'running',
      owner: 'replica-b',
    });
    await store.close();
  });

  it('leases executions: a live lease is not claimed, a run-out one is, and a restart claims its own', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const store = new PostgresExecutionStore({ connectionString: url, leaseMs: 60_000 });
    const now = new Date().toISOString();
    const base = {
      workflow: { name: 'w', version: '1' },
      status: 'running' as const,
      input: {},
      output: null,
      createdAt: now,
      startedAt: now,
      completedAt: null,
      durationMs: null,
      deadlineAt: null,
      steps: {},
    };
    const ids = ['0190c000-0000-7000-8000-000000000001', '0190c000-0000-7000-8000-000000000002'];
    await store.createExecution({ ...base, id: ids[0]!, owner: 'a' });
    await store.createExecution({ ...base, id: ids[1]!, owner: 'a' });
    expect(await store.claimExecutions({ owner: 'b', limit: 10, leaseMs: 1000, own: false })).toEqual([]);
    // a restarting under the same name takes its own back at once.
    expect(
      (await store.claimExecutions({ owner: 'a', limit: 1, leaseMs: 1000, own: true })).map((r) => r.id),
    ).toEqual([ids[0]]);

    await sql(url, `UPDATE orchestrator_executions SET lease_until = now() - interval '1 second'`);
    const taken = await store.claimExecutions({ owner: 'b', limit: 10, leaseMs: 60_000, own: false });
    expect(taken.map((r) => [r.id, r.owner])).toEqual([
      [ids[0], 'b'],
      [ids[1], 'b'],
    ]);
    expect(await store.renewLeases('a', ids, 1000)).toEqual({ lost: ids, cancelled: [] });
    await store.updateExecution(ids[1]!, { cancelReason: 'enough' });
    expect(await store.renewLeases('b', ids, 60_000)).toEqual({
      lost: [],
      cancelled: [{ id: ids[1], reason: 'enough' }],
    });
    expect(await store.claimExecutions({ owner: 'c', limit: 10, leaseMs: 1000, own: false })).toEqual([]);
    // Writes are fenced: the replica that lost the execution cannot write over the new owner's work.
    await expect(store.updateExecution(ids[0]!, { status: 'failed' }, 'a')).rejects.toMatchObject({
      code: 'ORCH_LEASE_LOST',
    });
    await expect(
      store.saveStep(
        ids[0]!,
        's',
        { status: 'failed', attempts: 1, startedAt: now, completedAt: now, durationMs: 1 },
        'a',
      ),
    ).rejects.toMatchObject({ code: 'ORCH_LEASE_LOST' });
    await store.saveStep(
      ids[0]!,
      's',
      { status: 'running', attempts: 1, startedAt: now, completedAt: null, durationMs: null },
      'b',
    );
    await store.updateExecution(ids[0]!, { output: { fenced: true } }, 'b');
    expect(await store.getExecution(ids[0]!)).toMatchObject({
      status: 'running',
      output: { fenced: true },
      steps: { s: { status: 'running' } },
    });
    // A replica that shuts down hands its executions straight over.
    await store.releaseLeases('b', [ids[0]!]);
    expect(
      (await store.claimExecutions({ owner: 'c', limit: 10, leaseMs: 1000, own: false })).map((r) => r.id),
    ).toEqual([ids[0]]);
    await store.close();
  });

  it('stops running an execution another replica took over, without writing over its work', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const store = new PostgresExecutionStore({ connectionString: url });
    const caller = new ScriptedCaller({ t: hang() });
    const engine = new WorkflowEngine({ store, stepCaller: caller, instanceId: 'replica-a', leaseMs: 300 });
    await engine.initialize();
    const abandoned: string[] = [];
    engine.on('execution_abandoned', (e) => abandoned.push(e.executionId));
    await engine.registerWorkflow({ name: 'w', version: '1', steps: [{ name: 's', mcp: 'm', action: 't' }] });
    const { execution } = await engine.startWorkflow('w');
    await eventually(() => expect(caller.calls).toHaveLength(1));

    // What a replica's claim does once this one stalled past its lease.
    await sql(url, `UPDATE orchestrator_executions SET owner = 'replica-b' WHERE id = $1`, [execution.id]);
    await eventually(() => expect(abandoned).toEqual([execution.id]));
    await eventually(() => expect(caller.calls[0]!.outcome).toBe('aborted'));
    await eventually(() => expect(engine.listActiveExecutions()).toEqual([]));
    expect(await store.getExecution(execution.id)).toMatchObject({
      status: 'running',
      owner: 'replica-b',
      steps: { s: { status: 'running' } },
    });
    expect(engine.getMetrics()).toMatchObject({ failedWorkflows: 0, cancelledWorkflows: 0 });
    await engine.close();
    await store.close();
  });

  it('stops a rollback it gave up mid-way, and a waiter gets the end the new owner writes', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const store = new PostgresExecutionStore({ connectionString: url });
    const caller = new ScriptedCaller({
      make: respond({ ok: true }),
      undoA: respond('undone'),
      undoB: hang(),
      broken: fail(invalidParams),
    });
    const engine = new WorkflowEngine({ store, stepCaller: caller, instanceId: 'replica-a', leaseMs: 300 });
    await engine.initialize();
    await engine.registerWorkflow({
      name: 'saga',
      version: '1',
      steps: [
        { name: 'a', mcp: 'm', action: 'make', compensation: { action: 'undoA' } },
        { name: 'b', mcp: 'm', action: 'make', compensation: { action: 'undoB' } },
        { name: 'c', mcp: 'm', action: 'broken' },
      ],
    });
    const { execution } = await engine.startWorkflow('saga');
    const waiting = engine.waitForExecution(execution.id);
    await eventually(() => expect(caller.callsOf('b', true)).toHaveLength(1));

    await sql(url, `UPDATE orchestrator_executions SET owner = 'replica-b' WHERE id = $1`, [execution.id]);
    await eventually(() => expect(caller.callsOf('b', true)[0]!.outcome).toBe('aborted'));
    await eventually(() => expect(engine.listActiveExecutions()).toEqual([]));
    // The undo of a is the new owner's to make.
    expect(caller.callsOf('a', true)).toHaveLength(0);
    expect(await store.getExecution(execution.id)).toMatchObject({ status: 'compensating' });
    await sql(url, `UPDATE orchestrator_executions SET status = 'compensated', owner = NULL WHERE id = $1`, [
      execution.id,
    ]);
    expect(await waiting).toMatchObject({ id: execution.id, status: 'compensated' });
    await engine.close();
    await store.close();
  });

  it('hands what still runs at close straight to the other replicas', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const store = new PostgresExecutionStore({ connectionString: url });
    const caller = new ScriptedCaller({ t: hang() });
    const engine = new WorkflowEngine({ store, stepCaller: caller, instanceId: 'replica-a' });
    await engine.initialize();
    await engine.registerWorkflow({ name: 'w', version: '1', steps: [{ name: 's', mcp: 'm', action: 't' }] });
    const { execution } = await engine.startWorkflow('w');
    await eventually(() => expect(caller.calls).toHaveLength(1));
    // Leased for the default 30 s: nobody else may take it.
    expect(await store.claimExecutions({ owner: 'replica-b', limit: 5, leaseMs: 1000, own: false })).toEqual(
      [],
    );
    expect(await engine.drain(50)).toBe(false);
    await engine.close();
    await eventually(() => expect(caller.calls[0]!.outcome).toBe('aborted'));
    const taken = await store.claimExecutions({ owner: 'replica-b', limit: 5, leaseMs: 1000, own: false });
    expect(taken.map((r) => [r.id, r.status])).toEqual([[execution.id, 'running']]);
    await store.close();
  });

  it('gives an execution up when a write finds another replica holds it, before any renewal', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const store = new PostgresExecutionStore({ connectionString: url });
    const caller = new ScriptedCaller({ t: respond({ ok: 1 }, 400), u: respond({ ok: 2 }) });
    // A long lease: no renewal happens during the test, only the fenced writes can notice.
    const engine = new WorkflowEngine({
      store,
      stepCaller: caller,
      instanceId: 'replica-a',
      leaseMs: 600_000,
    });
    await engine.initialize();
    const abandoned: string[] = [];
    engine.on('execution_abandoned', (e) => abandoned.push(e.executionId));
    await engine.registerWorkflow({
      name: 'w',
      version: '1',
      steps: [
        { name: 's', mcp: 'm', action: 't' },
        { name: 'next', mcp: 'm', action: 'u' },
      ],
    });
    const { execution } = await engine.startWorkflow('w');
    await eventually(() => expect(caller.calls).toHaveLength(1));
    await sql(url, `UPDATE orchestrator_executions SET owner = 'replica-b' WHERE id = $1`, [execution.id]);
    await eventually(() => expect(abandoned).toEqual([execution.id]));
    await eventually(() => expect(engine.listActiveExecutions()).toEqual([]));
    expect(caller.calls).toHaveLength(1);
    expect(await store.getExecution(execution.id)).toMatchObject({
      status: 'running',
      owner: 'replica-b',
      steps: { s: { status: 'running' } },
    });
    await engine.close();
    await store.close();
  });

  it('lets an idle replica take queued work a busy one has no room for, each execution run once', async () => {
    const url = await freshDatabase(inject('postgresUrl'));
    const definition = { name: 'w', version: '1', steps: [{ name: 's', mcp: 'm', action: 't' }] };
    const replica = async (instanceId: string, maxConcurrentWorkflows: number) => {
      const store = new PostgresExecutionStore({ connectionString: url });
      const caller = new ScriptedCaller({ t: respond((r) => ({ by: instanceId, id: r.executionId }), 500) });
      const engine = new WorkflowEngine({
        store,
        stepCaller: caller,
        instanceId,
        leaseMs: 300,
        maxConcurrentWorkflows,
      });
      await engine.initialize();
      return { store, caller, engine };
    };
    const busy = await replica('busy', 1);
    const idle = await replica('idle', 10);
    await busy.engine.registerWorkflow(definition);
    // The idle replica reads the workflow's version from the store when it takes an execution.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await busy.engine.startWorkflow('w')).execution.id);
    // The waits are answered by whichever replica ends up running each one.
    const docs = await Promise.all(ids.map((id) => busy.engine.waitForExecution(id, 20_000)));
    expect(docs.map((d) => d?.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    const calls = [...busy.caller.calls, ...idle.caller.calls].map((c) => c.request.executionId).sort();
    expect(calls).toEqual([...ids].sort());
    expect(idle.caller.calls.length).toBeGreaterThan(0);
    // MAX_CONCURRENT_WORKFLOWS holds per replica.
    expect(busy.caller.maxInFlight).toBe(1);
    for (const r of [busy, idle]) {
      await r.engine.close();
      await r.store.close();
    }
  });
});
