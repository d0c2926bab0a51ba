/**
 * Load test (issue 8, `npm run test:load`): 1,000 executions of the seed
 * workflow (`workflows/send_coached_sms.yaml`) started at once against the
 * orchestrator as a process (SQLite file, as users run it) and a real MCP
 * server (`bench/seed-server.ts`, own process) that injects faults: about
 * 10% of calls fail once (an HTTP 500 or a tool error), about 10% of
 * executions have a slow call, and some SMS sends hang until the test
 * cancels their execution, which the saga then compensates.
 *
 * The faults follow from each execution's id (`bench/lib/fault-plan.ts`), so
 * the test knows every execution's outcome in advance and nothing it checks
 * depends on timing: every execution ends, with the status its plan says;
 * none is lost or stored twice (clients retry 429s and send some requests
 * twice, with the same Idempotency-Key); retries and compensations in
 * `/metrics` match what the server injected and what the store holds; a
 * full queue answers 429 with Retry-After, and nothing else goes wrong.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultPlan, HOLD_PREFIX } from '../bench/lib/fault-plan.js';
import {
  createWorkspace,
  metricSum,
  type OrchestratorProcess,
  type SeedServer,
  startOrchestrator,
  startSeedServer,
  type Workspace,
} from '../bench/lib/processes.js';

const EXECUTIONS = 1000;
/** Every 50th execution sends to a number the server holds: 20 of them are cancelled mid-call. */
const isHeld = (i: number) => i % 50 === 7;
/** Every 20th is sent twice at once, as a client retrying a request it thinks was lost. */
const isSentTwice = (i: number) => i % 20 === 3;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  contentType: string | undefined;
  body: { id?: string; status?: string; code?: string };
}

let server: SeedServer;
let workspace: Workspace;
let orchestrator: OrchestratorProcess;

beforeAll(async () => {
  server = await startSeedServer({ faults: true });
  workspace = createWorkspace({ mcpUrl: server.url, maxConcurrency: 64, failureThreshold: 10_000 });
  orchestrator = await startOrchestrator(workspace, {
    entry: 'src',
    // 100 running and 100 queued: a thousand at once overflow the queue many times over.
    env: { MAX_CONCURRENT_WORKFLOWS: '100', MAX_QUEUED_WORKFLOWS: '100', SHUTDOWN_TIMEOUT: '10000' },
  });
});

afterAll(async () => {
  await orchestrator?.stop();
  await server?.stop();
  workspace?.remove();
});

describe('1,000 concurrent executions of the seed workflow, with faults', () => {
  it('ends every execution as its fault plan says, stores each once, and accounts for every retry and compensation', async () => {
    const pool = new Pool(orchestrator.url, { connections: 2 * EXECUTIONS, pipelining: 1 });
    const run = `${Date.now().toString(36)}`;
    const answers: Answer[] = [];
    const post = async (i: number): Promise<Answer> => {
      const phone = isHeld(i)
        ? `${HOLD_PREFIX}${String(i).padStart(4, '0')}`
        : `+1555${String(i).padStart(7, '0')}`;
      const response = await pool.request({
        path: '/workflows/send_coached_sms/executions?wait=60000',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `load-${run}-${i}` },
        body: JSON.stringify({ input: { phone, coach_id: 'coach-123', message: `message ${i}` } }),
      });
      const text = await response.body.text();
      const answer: Answer = {
        status: response.statusCode,
        retryAfter: response.headers['retry-after'] as string | undefined,
        contentType: response.headers['content-type'] as string | undefined,
        body: JSON.parse(text) as Answer['body'],
      };
      answers.push(answer);
      return answer;
    };
    /** Starts execution `i`, waiting out 429s as told, until it is accepted. */
    const start = async (i: number): Promise<Answer> => {
      for (;;) {
        const answer = await post(i);
        if (answer.status !== 429) return answer;
        await sleep(Number(answer.retryAfter ?? 1) * 1000 + Math.random() * 500);
      }
    };

    // Cancels each execution whose SMS send the server holds, while the load runs.
    const cancelled = new Set<string>();
    let loading = true;
    const canceller = (async () => {
      while (loading) {
        for (const key of (await server.stats()).held) {
          const id = key.split(':')[0]!;
          if (cancelled.has(id)) continue;
          cancelled.add(id);
          const response = await pool.request({
            path: `/executions/${id}/cancel`,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ reason: 'load test: cancelled mid-call' }),
          });
          await response.body.dump();
          expect(response.statusCode).toBe(202);
        }
        await sleep(50);
      }
    })();

    const results = await Promise.all(
      Array.from({ length: EXECUTIONS }, async (_, i) => {
        const first = start(i);
        const twice = isSentTwice(i) ? await Promise.all([first, start(i)]) : [await first];
        return { i, answers: twice };
      }),
    );
    loading = false;
    await canceller;

    // Every answer was an execution (200, or 202 had the wait run out) or a full queue: nothing else.
    const unexpected = answers.filter((a) => ![200, 202, 429].includes(a.status));
    expect(unexpected).toEqual([]);
    const queueFull = answers.filter((a) => a.status === 429);
    expect(queueFull.length).toBeGreaterThan(0);
    for (const answer of queueFull) {
      expect(answer.retryAfter).toMatch(/^[1-9][0-9]*$/);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body.code).toBe('ORCH_QUEUE_FULL');
    }

    // A request sent twice got the one execution twice.
    const idOf = new Map<number, string>();
    for (const { i, answers: pair } of results) {
      const ids = new Set(pair.map((a) => a.body.id));
      expect(ids.size, `execution ${i} answered with ${[...ids].join(', ')}`).toBe(1);
      idOf.set(i, pair[0]!.body.id!);
    }
    expect(new Set(idOf.values()).size).toBe(EXECUTIONS);

    // Each execution ends as its plan says: a failure of get_contact is retried away; one of
    // get_coach_info or send_sms (no retries in the seed workflow) fails the execution; a held
    // send is cancelled mid-call and compensated.
    const expected = new Map<string, string>();
    for (const [i, id] of idOf) {
      const fail = faultPlan(id).fail;
      expected.set(
        id,
        fail && fail.step !== 'get_contact' ? 'failed' : isHeld(i) ? 'cancelled' : 'completed',
      );
    }
    const final = new Map<string, string>();
    for (const { answers: pair } of results) {
      let doc = pair[0]!.body;
      // The wait ran out (a very slow machine): the execution still ends; follow it.
      for (
        let polls = 0;
        doc.status && !['completed', 'failed', 'cancelled', 'compensated'].includes(doc.status);
        polls++
      ) {
        if (polls > 600) throw new Error(`execution ${doc.id} still ${doc.status}`);
        await sleep(100);
        const response = await pool.request({ path: `/executions/${doc.id}`, method: 'GET' });
        doc = (await response.body.json()) as Answer['body'];
      }
      final.set(doc.id!, doc.status!);
    }
    expect(Object.fromEntries(final)).toEqual(Object.fromEntries(expected));

    // The API lists each execution once.
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const response = await pool.request({
        path: `/executions?workflow=send_coached_sms&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        method: 'GET',
      });
      const page = (await response.body.json()) as { items: { id: string }[]; nextCursor?: string };
      listed.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(listed.length).toBe(EXECUTIONS);
    expect(new Set(listed)).toEqual(new Set(idOf.values()));

    // /metrics adds up with the store and with what the server injected.
    const metrics = await orchestrator.metrics();
    const stats = await server.stats();
    const count = (status: string) => [...expected.values()].filter((s) => s === status).length;
    for (const status of ['completed', 'failed', 'cancelled'])
      expect(metricSum(metrics, 'orchestrator_workflow_executions_total', { status }), status).toBe(
        count(status),
      );
    expect(metricSum(metrics, 'orchestrator_workflow_executions_total')).toBe(EXECUTIONS);
    const planned = (step: string) =>
      [...idOf.values()].filter((id) => faultPlan(id).fail?.step === step).length;
    expect(stats.failed.get_contact ?? 0).toBe(planned('get_contact'));
    expect(metricSum(metrics, 'orchestrator_step_retries_total', { step: 'get_contact' })).toBe(
      planned('get_contact'),
    );
    expect(metricSum(metrics, 'orchestrator_step_retries_total')).toBe(planned('get_contact'));
    expect(
      metricSum(metrics, 'orchestrator_step_executions_total', { step: 'get_coach_info', status: 'failed' }),
    ).toBe(planned('get_coach_info'));
    expect(
      metricSum(metrics, 'orchestrator_step_executions_total', { step: 'send_sms', status: 'failed' }),
    ).toBe(planned('send_sms'));
    expect(
      metricSum(metrics, 'orchestrator_step_executions_total', { step: 'send_sms', status: 'completed' }),
    ).toBe(count('completed'));
    expect(metricSum(metrics, 'orchestrator_mcp_requests_total', { outcome: 'tool_error' })).toBe(
      stats.failedByKind.tool ?? 0,
    );
    expect(metricSum(metrics, 'orchestrator_mcp_requests_total', { outcome: 'error' })).toBe(
      stats.failedByKind.http ?? 0,
    );
    expect(count('cancelled')).toBeGreaterThan(0);
    expect(cancelled.size).toBe(count('cancelled'));
    expect(metricSum(metrics, 'orchestrator_compensations_total', { status: 'compensated' })).toBe(
      count('cancelled'),
    );
    expect(metricSum(metrics, 'orchestrator_compensations_total')).toBe(count('cancelled'));
    expect(stats.calls.send_cancellation_notice ?? 0).toBe(count('cancelled'));
    expect(metricSum(metrics, 'orchestrator_workflows_active')).toBe(0);
    expect(metricSum(metrics, 'orchestrator_workflows_queued')).toBe(0);
    await pool.close();

    // The store, read directly once the server has stopped: each execution once, final, with its steps.
    expect(await orchestrator.stop()).toBe(0);
    const db = new Database(workspace.databasePath, { readonly: true });
    try {
      const rows = db.prepare('SELECT id, status, owner, idempotency_key FROM executions').all() as {
        id: string;
        status: string;
        owner: string | null;
        idempotency_key: string;
      }[];
      expect(rows.length).toBe(EXECUTIONS);
      expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(EXECUTIONS);
      expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual(Object.fromEntries(expected));
      expect(rows.filter((r) => r.owner !== null)).toEqual([]);
      const steps = db.prepare('SELECT execution_id, name, state FROM steps').all() as {
        execution_id: string;
        name: string;
        state: string;
      }[];
      expect(steps.length).toBe(3 * EXECUTIONS);
      const compensated = steps.filter((s) => {
        const state = JSON.parse(s.state) as { status: string; compensation?: { status: string } };
        return state.status === 'compensated' && state.compensation?.status === 'completed';
      });
      expect(compensated.map((s) => `${s.execution_id}:${s.name}`).sort()).toEqual(
        [...expected]
          .filter(([, status]) => status === 'cancelled')
          .map(([id]) => `${id}:send_sms`)
          .sort(),
      );
    } finally {
      db.close();
    }
  }, 180_000);
});
