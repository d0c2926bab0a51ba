/**
 * The engine alone, in this process: the compiled engine (`dist/`) runs the
 * seed workflow against a step caller that costs nothing (each call
 * resolves at once with a fixed result) and the real SQLite store (a WAL
 * file in a temp directory, as the server uses it). What is left is the
 * orchestration itself: scheduling, expressions, resilience policies,
 * events and durable writes.
 *
 * Prints one JSON line: executions, steps, wall time, CPU time, steps/s and
 * steps per CPU-second ("per core"). Arguments: `--executions N` (20000),
 * `--concurrency K` executions in flight (100), `--store file|memory|null`;
 * `ENGINE_DIST=/path/to/dist/index.js` runs another build of the engine.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// Types from the sources (the same API the build compiles), so type checks need no build.
import type { ExecutionStore, StepCallRequest } from '../src/index.js';
import { ROOT, SEED_INPUT } from './lib/processes.js';

// ENGINE_DIST points at another build (an earlier commit's dist/index.js) for before/after runs.
const { SqliteExecutionStore, WorkflowEngine } = (await import(
  process.env.ENGINE_DIST ?? '../dist/index.js'
)) as typeof import('../src/index.js');

const { values } = parseArgs({
  options: {
    executions: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '2000' },
    store: { type: 'string', default: 'file' },
  },
});
const executions = Number(values.executions);
const concurrency = Number(values.concurrency);
const warmup = Number(values.warmup);

const RESULTS: Record<string, unknown> = {
  get_contact: { name: 'Ada Lovelace', phone: SEED_INPUT.phone, email: 'ada@example.com', opted_in: true },
  get_coach: { id: 'coach-123', name: 'Coach Carter', phone: '+15550001111' },
  send: { id: 'sms-1', to: SEED_INPUT.phone, from: '+15550001111', message: 'hi', status: 'sent' },
};
const resolved = new Map(Object.entries(RESULTS).map(([tool, value]) => [tool, Promise.resolve(value)]));

const dir = mkdtempSync(join(tmpdir(), 'orch-engine-bench-'));
// As the server opens it (openStore): one group commit per event-loop turn.
const sqlite = new SqliteExecutionStore({
  path: values.store === 'memory' ? ':memory:' : join(dir, 'orchestrator.db'),
  groupCommit: 'turn',
});
// `null`: a store that keeps nothing (each write still serialises its record), the engine's own
// cost with the store taken out, to tell how much of a step the store is.
const nothing = Promise.resolve();
const store: ExecutionStore =
  values.store === 'null'
    ? Object.assign(Object.create(sqlite) as ExecutionStore, {
        ordered: true,
        createExecution: () => Promise.resolve({ created: true as const }),
        updateExecution: (_id: string, patch: unknown) => {
          JSON.stringify(patch);
          return nothing;
        },
        saveStep: (_id: string, _name: string, record: unknown) => {
          JSON.stringify(record);
          return nothing;
        },
      })
    : sqlite;
const engine = new WorkflowEngine({
  store,
  stepCaller: { call: (request: StepCallRequest) => resolved.get(request.tool)! },
  maxConcurrentWorkflows: concurrency,
  maxConcurrentSteps: concurrency * 2,
});
await engine.initialize();
await engine.registerWorkflow(readFileSync(join(ROOT, 'workflows', 'send_coached_sms.yaml'), 'utf8'));

async function drive(count: number): Promise<number> {
  let next = 0;
  let steps = 0;
  const loop = async () => {
    while (next < count) {
      next += 1;
      const doc = await engine.executeWorkflow('send_coached_sms', SEED_INPUT);
      if (doc.status !== 'completed') throw new Error(`execution ended ${doc.status}`);
      steps += Object.keys(doc.steps).length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return steps;
}

await drive(warmup);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const steps = await drive(executions);
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000;
await store.close();
rmSync(dir, { recursive: true, force: true });

process.stdout.write(
  `${JSON.stringify({
    store: values.store,
    executions,
    concurrency,
    steps,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round(cpuMs),
    stepsPerSecond: Math.round(steps / (wallMs / 1000)),
    stepsPerCpuSecond: Math.round(steps / (cpuMs / 1000)),
    executionsPerSecond: Math.round(executions / (wallMs / 1000)),
  })}\n`,
);
