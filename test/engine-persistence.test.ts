/**
 * The engine on a real SQLite file: workflows loaded from YAML files on
 * disk, executions and registered workflows surviving a restart as records,
 * and every transition committed before the step is called.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchestrationEngine, SqliteExecutionStore } from '../src/index.js';
import { hang, respond, ScriptedCaller } from './support/scripted-caller.js';

const workflowYaml = `
name: greet
version: "1.0.0"
input:
  type: object
  required: [name]
steps:
  - name: lookup
    mcp: people
    action: find
    params: { name: $input.name }
  - name: greet
    mcp: mailer
    action: send
    params:
      to: $steps.lookup.result.email
      subject: $input.name & ", welcome"
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-persist-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function caller(): ScriptedCaller {
  return new ScriptedCaller({
    find: respond((r) => ({ email: `${String(r.params.name).toLowerCase()}@example.com` })),
    send: respond((r) => ({ delivered: true, to: r.params.to, subject: r.params.subject })),
    wait: hang(),
  });
}

describe('engine on a SQLite file', () => {
  it('keeps workflows, executions and idempotency keys across a restart', async () => {
    const dbPath = join(dir, 'data', 'orchestrator.db');
    const file = join(dir, 'greet.yaml');
    writeFileSync(file, workflowYaml);

    const store1 = new SqliteExecutionStore({ path: dbPath });
    const engine1 = new OrchestrationEngine({ store: store1, stepCaller: caller(), instanceId: 'pod-a' });
    await engine1.initialize();
    expect((await engine1.loadWorkflowFromFile(file)).workflow).toMatchObject({
      name: 'greet',
      version: '1.0.0',
      steps: 2,
    });
    const done = await engine1.executeWorkflow('greet', { name: 'Ada' }, { idempotencyKey: 'req-1' });
    expect(done).toMatchObject({
      status: 'completed',
      output: { greet: { delivered: true, to: 'ada@example.com', subject: 'Ada, welcome' } },
    });
    await store1.close();

    const store2 = new SqliteExecutionStore({ path: dbPath });
    const engine2 = new OrchestrationEngine({ store: store2, stepCaller: caller(), instanceId: 'pod-b' });
    await engine2.initialize();
    expect(engine2.listWorkflows().map((w) => `${w.name}@${w.version}`)).toEqual(['greet@1.0.0']);
    const reloaded = await engine2.getWorkflowStatus(done.id);
    expect(reloaded).toEqual(done);
    const replay = await engine2.startWorkflow('greet', { name: 'Ada' }, { idempotencyKey: 'req-1' });
    expect(replay).toMatchObject({ replayed: true, execution: { id: done.id, status: 'completed' } });
    const again = await engine2.executeWorkflow('greet', { name: 'Bob' });
    expect(again.output).toMatchObject({ greet: { to: 'bob@example.com' } });
    await store2.close();
  });

  it('commits each transition before the step is called', async () => {
    const dbPath = join(dir, 'o.db');
    const store = new SqliteExecutionStore({ path: dbPath });
    const stepCaller = caller();
    const engine = new OrchestrationEngine({ store, stepCaller, instanceId: 'pod-a' });
    await engine.registerWorkflow({
      name: 'stuck',
      version: '1',
      timeout: 60_000,
      steps: [
        { name: 'first', mcp: 'm', action: 'find', params: { name: 'x' } },
        { name: 'second', mcp: 'm', action: 'wait' },
      ],
    });
    const secondStarted = new Promise<void>((resolve) => {
      engine.on('step_started', (e) => {
        if (e.step === 'second') resolve();
      });
    });
    const { execution } = await engine.startWorkflow('stuck', {});
    await secondStarted;

    // The files as a crash would leave them right now (the database and its WAL; the running
    // store holds the lock, so a copy), opened as a restarted process would: what the engine acted on.
    const copy = join(dir, 'crash-copy.db');
    copyFileSync(dbPath, copy);
    if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${copy}-wal`);
    const reader = new SqliteExecutionStore({ path: copy });
    const record = await reader.getExecution(execution.id);
    expect(record).toMatchObject({ status: 'running', owner: 'pod-a' });
    expect(record!.deadlineAt).not.toBeNull();
    expect(record!.steps.first).toMatchObject({
      status: 'completed',
      attempts: 1,
      result: { email: 'x@example.com' },
    });
    expect(record!.steps.second).toMatchObject({ status: 'running', attempts: 1 });
    expect(stepCaller.callsOf('second')).toHaveLength(1);
    expect((await reader.getWorkflowVersion('stuck', '1'))?.definition.steps).toHaveLength(2);
    await reader.close();

    await engine.cancelWorkflow(execution.id, 'test over');
    expect((await engine.waitForExecution(execution.id))?.status).toBe('cancelled');
    await store.close();
  });
});
