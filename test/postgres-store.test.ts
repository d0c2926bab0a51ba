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
});
