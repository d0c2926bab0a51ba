/**
 * The execution store contract on a real PostgreSQL (a throwaway cluster
 * started by the test setup), the same suite SQLite runs; and the engine on
 * it end to end.
 */
import { describe, expect, inject, it } from 'vitest';
import { OrchestrationEngine } from '../src/index.js';
import { openStore, PostgresExecutionStore } from '../src/store/index.js';
import { freshDatabase } from './support/postgres-cluster.js';
import { respond, ScriptedCaller } from './support/scripted-caller.js';
import { describeStoreContract } from './support/store-contract.js';

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
    const { WorkflowEngine } = await import('../src/engine/index.js');
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
});
