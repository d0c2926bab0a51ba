import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHarness, drive, until } from '../../test/support/engine-harness.js';
import {
  failTimes,
  hang,
  invalidParams,
  respond,
  ScriptedCaller,
  transient,
} from '../../test/support/scripted-caller.js';
import type { OrchestratorError } from './errors.js';

const seed = {
  name: 'send_coached_sms',
  version: '1.0.0',
  timeout: 180_000,
  input: { type: 'object', required: ['phone'] },
  steps: [
    {
      name: 'get_contact',
      mcp: 'contacts',
      action: 'get_contact',
      params: { phone: '$input.phone' },
      retries: 2,
    },
    {
      name: 'get_coach_info',
      mcp: 'platform',
      action: 'get_coach',
      params: { coach_id: '$input.coach_id' },
      parallel: true,
    },
    {
      name: 'send_sms',
      mcp: 'sms',
      action: 'send',
      params: {
        to: '$steps.get_contact.result.phone',
        from: '$steps.get_coach_info.result.phone',
        message: '$input.message',
      },
      dependsOn: ['get_contact', 'get_coach_info'],
    },
  ],
};

function seedCaller(): ScriptedCaller {
  return new ScriptedCaller({
    get_contact: respond((r) => ({ phone: r.params.phone, opted_in: true }), 50),
    get_coach: respond({ phone: '+1999', name: 'Coach' }, 30),
    send: respond((r) => ({ sent: true, to: r.params.to }), 20),
  });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function expectError(promise: Promise<unknown>): Promise<OrchestratorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error) throw new Error('expected a rejection');
  return error as OrchestratorError;
}

describe('scheduling', () => {
  it('runs the seed workflow: parallel steps overlap, the dependent waits for both', async () => {
    const h = createHarness({}, seedCaller());
    await h.engine.registerWorkflow(seed);
    const doc = await drive(
      h.engine.executeWorkflow('send_coached_sms', { phone: '+1555', coach_id: 'c1', message: 'hi' }),
    );

    expect(doc.status).toBe('completed');
    const [contact] = h.caller.callsOf('get_contact');
    const [coach] = h.caller.callsOf('get_coach_info');
    const [sms] = h.caller.callsOf('send_sms');
    // Both parallel calls started before either ended.
    expect(Math.max(contact!.startedAt, coach!.startedAt)).toBeLessThan(
      Math.min(contact!.endedAt!, coach!.endedAt!),
    );
    expect(sms!.startedAt).toBeGreaterThanOrEqual(Math.max(contact!.endedAt!, coach!.endedAt!));
    expect(sms!.request.params).toEqual({ to: '+1555', from: '+1999', message: 'hi' });
    expect(sms!.request.idempotencyKey).toBe(`${doc.id}:send_sms`);
    expect(doc.output).toEqual({
      get_contact: { phone: '+1555', opted_in: true },
      get_coach_info: { phone: '+1999', name: 'Coach' },
      send_sms: { sent: true, to: '+1555' },
    });
    expect(doc.steps.send_sms).toMatchObject({ status: 'completed', attempts: 1, durationMs: 20 });
    expect(doc.owner).toBeNull();
    expect(doc.durationMs).toBe(70);
    expect(h.eventNames(doc.id)).toEqual([
      'workflow_started',
      'step_started:get_contact',
      'step_started:get_coach_info',
      'step_completed:get_coach_info',
      'step_completed:get_contact',
      'step_started:send_sms',
      'step_completed:send_sms',
      'workflow_completed',
    ]);
  });

  it('starts every step whose dependencies are met at once, and chains in written order', async () => {
    const caller = new ScriptedCaller({ work: respond('ok', 100) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'fan',
      version: '1',
      steps: [
        { name: 'root', mcp: 'm', action: 'work' },
        { name: 'x', mcp: 'm', action: 'work', dependsOn: ['root'] },
        { name: 'y', mcp: 'm', action: 'work', dependsOn: ['root'] },
        { name: 'z', mcp: 'm', action: 'work', dependsOn: ['root'] },
        { name: 'last', mcp: 'm', action: 'work' },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('fan', {}));
    const start = (s: string) => caller.callsOf(s)[0]!.startedAt;
    expect(new Set([start('x'), start('y'), start('z')]).size).toBe(1);
    expect(start('x') - start('root')).toBe(100);
    // `last` follows the group before it, which is `z` alone (x and y are not parallel members).
    expect(start('last') - start('z')).toBe(100);
    expect(doc.durationMs).toBe(300);
  });

  it('skips a step whose condition is false, and steps that depend only on skipped steps', async () => {
    const caller = new ScriptedCaller({
      check: respond({ is_premium: false }),
      enable: respond('enabled'),
      notify: respond('notified'),
      audit: respond('audited'),
    });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'premium',
      version: '1',
      steps: [
        { name: 'check_premium', mcp: 'p', action: 'check' },
        {
          name: 'premium_feature',
          mcp: 'p',
          action: 'enable',
          condition: '$steps.check_premium.result.is_premium',
          dependsOn: ['check_premium'],
        },
        { name: 'notify_premium', mcp: 'p', action: 'notify', dependsOn: ['premium_feature'] },
        { name: 'audit', mcp: 'p', action: 'audit', dependsOn: ['check_premium', 'premium_feature'] },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('premium', {}));
    expect(doc.status).toBe('completed');
    expect(doc.steps.premium_feature!.status).toBe('skipped');
    expect(doc.steps.notify_premium!.status).toBe('skipped');
    expect(doc.steps.audit!.status).toBe('completed');
    expect(caller.calls.map((c) => c.request.step)).toEqual(['check_premium', 'audit']);
    expect(h.events.filter((e) => e.name === 'step_skipped').map((e) => e.payload.reason)).toEqual([
      'condition',
      'dependencies_skipped',
    ]);
    expect(doc.output).toEqual({ check_premium: { is_premium: false }, audit: 'audited' });
  });

  it('computes a declared output from its expressions', async () => {
    const h = createHarness({}, seedCaller());
    await h.engine.registerWorkflow({
      ...seed,
      output: { sent: '$steps.send_sms.result.sent', coach: '$steps.get_coach_info.result.name' },
    });
    const doc = await drive(h.engine.executeWorkflow('send_coached_sms', { phone: '+1' }));
    expect(doc.output).toEqual({ sent: true, coach: 'Coach' });
  });
});

describe('retries and timeouts', () => {
  it('retries with backoff and counts attempts', async () => {
    const caller = new ScriptedCaller({ flaky: failTimes(2, transient, respond('finally')) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'retry',
      version: '1',
      steps: [
        {
          name: 'flaky',
          mcp: 'm',
          action: 'flaky',
          retries: 2,
          backoff: { initialDelay: 100, maxDelay: 1000 },
        },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('retry', {}));
    expect(doc.status).toBe('completed');
    expect(doc.steps.flaky).toMatchObject({ status: 'completed', attempts: 3, result: 'finally' });
    expect(caller.calls.map((c) => c.request.attempt)).toEqual([1, 2, 3]);
    expect(new Set(caller.calls.map((c) => c.request.idempotencyKey)).size).toBe(1);
    const retrying = h.events.filter((e) => e.name === 'step_retrying');
    expect(retrying.map((e) => e.payload.attempt)).toEqual([1, 2]);
    // Each attempt announces its start, after the backoff before it.
    expect(h.eventNames(doc.id).filter((n) => n.startsWith('step_'))).toEqual([
      'step_started:flaky',
      'step_retrying:flaky',
      'step_started:flaky',
      'step_retrying:flaky',
      'step_started:flaky',
      'step_completed:flaky',
    ]);
    expect(h.events.filter((e) => e.name === 'step_started').map((e) => e.payload.attempt)).toEqual([
      1, 2, 3,
    ]);
    for (const e of retrying) {
      expect(e.payload.delayMs).toBeGreaterThanOrEqual(0);
      expect(e.payload.delayMs).toBeLessThanOrEqual(1000);
      expect((e.payload.error as { code: string }).code).toBe('ORCH_MCP_TRANSPORT');
    }
    // The second attempt starts only after the backoff delay chosen for it.
    const gap = caller.calls[1]!.startedAt - caller.calls[0]!.endedAt!;
    expect(Math.abs(gap - (retrying[0]!.payload.delayMs as number))).toBeLessThanOrEqual(1);
    // Each attempt in the document, with the times the caller saw and the backoff after it.
    const history = doc.steps.flaky!.attemptHistory!;
    expect(history.map((a) => [a.attempt, a.outcome, a.error?.code])).toEqual([
      [1, 'failed', 'ORCH_MCP_TRANSPORT'],
      [2, 'failed', 'ORCH_MCP_TRANSPORT'],
      [3, 'completed', undefined],
    ]);
    history.forEach((a, i) => {
      expect(Date.parse(a.startedAt)).toBe(caller.calls[i]!.startedAt);
      expect(Date.parse(a.completedAt!)).toBe(caller.calls[i]!.endedAt);
      expect(a.durationMs).toBe(caller.calls[i]!.endedAt! - caller.calls[i]!.startedAt);
    });
    expect(history.slice(0, 2).map((a) => a.retryDelayMs)).toEqual(retrying.map((e) => e.payload.delayMs));
    expect(history[2]!.retryDelayMs).toBeUndefined();
    expect((await h.store.getExecution(doc.id))!.steps.flaky!.attemptHistory).toHaveLength(3);
  });

  it('tells a step tried once by its own times, without storing a history for it', async () => {
    const caller = new ScriptedCaller({ ok: respond('fine'), slow: hang() });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'once',
      version: '1',
      steps: [
        { name: 'ok', mcp: 'm', action: 'ok' },
        { name: 'slow', mcp: 'm', action: 'slow', timeout: 500 },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('once', {}));
    expect(doc.steps.ok!.attemptHistory).toEqual([
      {
        attempt: 1,
        startedAt: doc.steps.ok!.startedAt,
        completedAt: doc.steps.ok!.completedAt,
        durationMs: doc.steps.ok!.durationMs,
        outcome: 'completed',
      },
    ]);
    expect(doc.steps.slow!.attemptHistory).toMatchObject([
      { attempt: 1, outcome: 'timed_out', durationMs: 500, error: { code: 'ORCH_STEP_TIMEOUT' } },
    ]);
    const stored = await h.store.getExecution(doc.id);
    expect(stored!.steps.ok!.attemptHistory).toBeUndefined();
  });

  it('fails the step after its retries and records the last error', async () => {
    const caller = new ScriptedCaller({ flaky: failTimes(5, transient, respond('never')) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'r',
      version: '1',
      steps: [{ name: 'flaky', mcp: 'm', action: 'flaky', retries: 1 }],
    });
    const doc = await drive(h.engine.executeWorkflow('r', {}));
    expect(doc.status).toBe('failed');
    expect(doc.steps.flaky).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'ORCH_MCP_TRANSPORT' },
    });
    expect(doc.error).toMatchObject({ code: 'ORCH_STEP_FAILED', details: { step: 'flaky' } });
    expect(doc.error!.message).toBe("step 'flaky' failed: HTTP 503 from MCP");
  });

  it('does not retry what no retry can mend', async () => {
    const caller = new ScriptedCaller({ strict: failTimes(9, invalidParams, respond('never')) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'r',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 'strict', retries: 3 }],
    });
    const doc = await drive(h.engine.executeWorkflow('r', {}));
    expect(caller.calls).toHaveLength(1);
    expect(doc.steps.s).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'ORCH_INVALID_PARAMS', retryable: false },
    });
  });

  it('times out each attempt, aborting the call, then retries', async () => {
    const caller = new ScriptedCaller({ slow: hang() });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 't',
      version: '1',
      steps: [
        {
          name: 'slow',
          mcp: 'm',
          action: 'slow',
          timeout: 1000,
          retries: 1,
          backoff: { initialDelay: 10, maxDelay: 10 },
        },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('t', {}));
    expect(caller.calls.map((c) => c.outcome)).toEqual(['aborted', 'aborted']);
    expect(caller.calls.map((c) => c.endedAt! - c.startedAt)).toEqual([1000, 1000]);
    expect(doc.steps.slow).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'ORCH_STEP_TIMEOUT' },
    });
    expect(doc.steps.slow!.error!.message).toBe('attempt 2 timed out after 1000 ms');
  });

  it('takes the step timeout, else the MCP timeout from the caller port, else the engine default', async () => {
    const caller = new ScriptedCaller({ t: hang() });
    const withMcpTimeouts = Object.assign(caller, {
      defaultTimeoutMs: (target: { mcp?: string }) => (target.mcp === 'slow_mcp' ? 700 : undefined),
    });
    const h = createHarness({ defaultStepTimeoutMs: 400 }, withMcpTimeouts);
    const cases = {
      own: { mcp: 'slow_mcp', timeout: 250 },
      mcp: { mcp: 'slow_mcp' },
      engine: { mcp: 'other' },
    };
    for (const [name, step] of Object.entries(cases)) {
      await h.engine.registerWorkflow({ name, version: '1', steps: [{ name, action: 't', ...step }] });
      await drive(h.engine.executeWorkflow(name, {}));
    }
    const took = (step: string) => caller.callsOf(step)[0]!.endedAt! - caller.callsOf(step)[0]!.startedAt;
    expect([took('own'), took('mcp'), took('engine')]).toEqual([250, 700, 400]);
    expect(caller.callsOf('mcp')[0]!.request.timeoutMs).toBe(700);
  });

  it('fails a step whose params cannot be evaluated, without calling it', async () => {
    const caller = new ScriptedCaller({ t: respond('x') });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'e',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 't', params: { n: '$input.a + 1' } }],
    });
    const doc = await drive(h.engine.executeWorkflow('e', { a: 'text' }));
    expect(caller.calls).toHaveLength(0);
    expect(doc.steps.s).toMatchObject({
      status: 'failed',
      attempts: 0,
      error: { code: 'ORCH_EXPRESSION_ERROR' },
    });
  });
});

describe('limits', () => {
  it('holds MAX_CONCURRENT_WORKFLOWS under 1,000 queued executions and rejects beyond the queue', async () => {
    const caller = new ScriptedCaller({ work: respond('ok', 100) });
    const h = createHarness({ maxConcurrentWorkflows: 10, maxQueuedWorkflows: 1000 }, caller);
    await h.engine.registerWorkflow({
      name: 'w',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 'work' }],
    });
    const ids: string[] = [];
    for (let i = 0; i < 1010; i++) ids.push((await h.engine.startWorkflow('w', { i })).execution.id);
    expect(h.engine.getMetrics()).toMatchObject({ activeWorkflows: 10, queuedWorkflows: 1000 });
    const full = await expectError(h.engine.startWorkflow('w', {}));
    expect(full.code).toBe('ORCH_QUEUE_FULL');
    expect(full.details?.retryAfterSeconds).toBeGreaterThanOrEqual(1);

    const queued = await h.engine.getWorkflowStatus(ids[500]!);
    expect(queued?.status).toBe('queued');
    await until(() => h.engine.getMetrics().activeWorkflows === 0, 20_000, 50);
    expect(caller.calls).toHaveLength(1010);
    expect(caller.maxInFlight).toBe(10);
    expect(h.engine.getMetrics()).toMatchObject({
      totalWorkflows: 1010,
      completedWorkflows: 1010,
      queuedWorkflows: 0,
    });
    // FIFO: executions start in the order they were accepted.
    expect(caller.calls.map((c) => c.request.executionId)).toEqual(ids);
  });

  it('holds MAX_CONCURRENT_STEPS across executions', async () => {
    const caller = new ScriptedCaller({ work: respond('ok', 100) });
    const h = createHarness({ maxConcurrentSteps: 5 }, caller);
    await h.engine.registerWorkflow({
      name: 'wide',
      version: '1',
      steps: Array.from({ length: 8 }, (_, i) => ({
        name: `s${i}`,
        mcp: 'm',
        action: 'work',
        parallel: i > 0,
      })),
    });
    const runs = [h.engine.executeWorkflow('wide', {}), h.engine.executeWorkflow('wide', {})];
    const docs = await drive(Promise.all(runs));
    expect(docs.map((d) => d.status)).toEqual(['completed', 'completed']);
    expect(caller.calls).toHaveLength(16);
    expect(caller.maxInFlight).toBe(5);
  });
});

describe('starting executions', () => {
  it('validates input against the workflow schema', async () => {
    const h = createHarness({}, seedCaller());
    await h.engine.registerWorkflow(seed);
    const error = await expectError(h.engine.startWorkflow('send_coached_sms', { coach_id: 'x' }));
    expect(error.code).toBe('ORCH_INPUT_INVALID');
    expect(error.errors).toEqual([{ path: 'input.phone', message: 'is required' }]);
    expect((await expectError(h.engine.startWorkflow('nope', {}))).code).toBe('ORCH_WORKFLOW_NOT_FOUND');
  });

  it('returns the same execution for a repeated idempotency key, and refuses it for another request', async () => {
    const h = createHarness({}, seedCaller());
    await h.engine.registerWorkflow(seed);
    const first = await h.engine.startWorkflow(
      'send_coached_sms',
      { phone: '+1' },
      { idempotencyKey: 'k-1' },
    );
    const again = await h.engine.startWorkflow(
      'send_coached_sms',
      { phone: '+1' },
      { idempotencyKey: 'k-1' },
    );
    expect(first.replayed).toBe(false);
    expect(again).toMatchObject({ replayed: true, execution: { id: first.execution.id } });
    const clash = await expectError(
      h.engine.startWorkflow('send_coached_sms', { phone: '+2' }, { idempotencyKey: 'k-1' }),
    );
    expect(clash.code).toBe('ORCH_IDEMPOTENCY_CONFLICT');
    await drive(h.engine.waitForExecution(first.execution.id));
    // Still replayed from the store once the execution has finished.
    const later = await h.engine.startWorkflow(
      'send_coached_sms',
      { phone: '+1' },
      { idempotencyKey: 'k-1' },
    );
    expect(later).toMatchObject({
      replayed: true,
      execution: { id: first.execution.id, status: 'completed' },
    });
    expect(h.caller.callsOf('get_contact')).toHaveLength(1);
  });

  it('replays a key whatever changed since: a full queue, a new input schema, an unregistered workflow', async () => {
    const h = createHarness(
      { maxConcurrentWorkflows: 1, maxQueuedWorkflows: 0 },
      new ScriptedCaller({ t: respond('ok', 10), wait: hang() }),
    );
    await h.engine.registerWorkflow({
      name: 'w',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 't' }],
    });
    await h.engine.registerWorkflow({
      name: 'blocker',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 'wait' }],
    });
    const first = await drive(h.engine.executeWorkflow('w', { n: 1 }, { idempotencyKey: 'k' }));
    await h.engine.startWorkflow('blocker', {});
    // The queue is full now, yet the repeat is answered.
    expect(await h.engine.startWorkflow('w', { n: 1 }, { idempotencyKey: 'k' })).toMatchObject({
      replayed: true,
      execution: { id: first.id },
    });
    await h.engine.registerWorkflow({
      name: 'w',
      version: '2',
      input: { type: 'object', required: ['other'] },
      steps: [{ name: 's', mcp: 'm', action: 't' }],
    });
    expect((await h.engine.startWorkflow('w', { n: 1 }, { idempotencyKey: 'k' })).replayed).toBe(true);
    await h.engine.unregisterWorkflow('w');
    expect((await h.engine.startWorkflow('w', { n: 1 }, { idempotencyKey: 'k' })).execution.status).toBe(
      'completed',
    );
  });

  it('waitForExecution gives up after its timeout and answers at once for a finished execution', async () => {
    const h = createHarness({}, new ScriptedCaller({ slow: respond('ok', 5000) }));
    await h.engine.registerWorkflow({
      name: 'slow',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 'slow' }],
    });
    const { execution } = await h.engine.startWorkflow('slow', {});
    expect(await drive(h.engine.waitForExecution(execution.id, 100))).toBeUndefined();
    const done = await drive(h.engine.waitForExecution(execution.id, 10_000));
    expect(done?.status).toBe('completed');
    expect((await h.engine.waitForExecution(execution.id, 1))?.status).toBe('completed');
  });

  it('lists active executions and pages through stored ones', async () => {
    const h = createHarness({}, new ScriptedCaller({ slow: respond('ok', 1000) }));
    await h.engine.registerWorkflow({
      name: 'slow',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 'slow' }],
    });
    const started = [];
    for (let i = 0; i < 5; i++) {
      started.push((await h.engine.startWorkflow('slow', { i })).execution.id);
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(
      h.engine
        .listActiveExecutions()
        .map((e) => e.id)
        .sort(),
    ).toEqual([...started].sort());
    const first = await h.engine.listExecutions({ limit: 2 });
    expect(first.items.map((e) => e.id)).toEqual([started[4], started[3]]);
    const second = await h.engine.listExecutions({ limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.id)).toEqual([started[2], started[1]]);
    const third = await h.engine.listExecutions({ limit: 2, cursor: second.nextCursor! });
    expect(third.items.map((e) => e.id)).toEqual([started[0]]);
    expect(third.nextCursor).toBeUndefined();
    expect((await h.engine.listExecutions({ limit: 10, status: 'running' })).items).toHaveLength(5);
    expect((await h.engine.listExecutions({ limit: 10, status: 'completed' })).items).toHaveLength(0);
  });
});

describe('registration', () => {
  it('accepts the same content again, rejects other content under the same version, and switches to a new version', async () => {
    const h = createHarness({}, seedCaller());
    expect((await h.engine.registerWorkflow(seed)).created).toBe(true);
    expect((await h.engine.registerWorkflow(structuredClone(seed))).created).toBe(false);
    const conflict = await expectError(h.engine.registerWorkflow({ ...seed, description: 'changed' }));
    expect(conflict.code).toBe('ORCH_WORKFLOW_CONFLICT');
    const v2 = await h.engine.registerWorkflow({ ...seed, version: '2.0.0', description: 'changed' });
    expect(v2).toMatchObject({
      created: true,
      workflow: { name: 'send_coached_sms', version: '2.0.0', steps: 3 },
    });
    expect(h.engine.listWorkflows().map((w) => w.version)).toEqual(['2.0.0']);
  });

  it('keeps a running execution on the version it started with', async () => {
    const caller = new ScriptedCaller({ a: respond('A', 100), b: respond('B', 100) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'v',
      version: '1',
      steps: [
        { name: 'one', mcp: 'm', action: 'a' },
        { name: 'two', mcp: 'm', action: 'a' },
      ],
    });
    const { execution } = await h.engine.startWorkflow('v', {});
    await vi.advanceTimersByTimeAsync(50);
    await h.engine.registerWorkflow({
      name: 'v',
      version: '2',
      steps: [{ name: 'only', mcp: 'm', action: 'b' }],
    });
    await h.engine.unregisterWorkflow('v');
    const doc = await drive(h.engine.waitForExecution(execution.id));
    expect(doc).toMatchObject({ status: 'completed', workflow: { version: '1' } });
    expect(Object.keys(doc!.steps)).toEqual(['one', 'two']);
    expect(h.engine.getWorkflow('v')).toBeUndefined();
  });

  it('parses YAML text and reports syntax errors with their position', async () => {
    const h = createHarness({}, seedCaller());
    const yaml = 'name: y\nversion: "1"\nsteps:\n  - name: a\n    mcp: m\n    action: get_coach\n';
    expect((await h.engine.registerWorkflow(yaml)).workflow.name).toBe('y');
    const error = await expectError(h.engine.registerWorkflow('name: y\nsteps: [\n'));
    expect(error.code).toBe('ORCH_WORKFLOW_INVALID');
    expect(error.message).toMatch(/not valid YAML or JSON \(line \d+, column \d+\)/);
  });

  it('loads a workflow file through the readFile port', async () => {
    const files: Record<string, string> = {
      '/wf/a.yaml': 'name: from_file\nversion: "1"\nsteps:\n  - { name: s, mcp: m, action: t }\n',
    };
    const h = createHarness({ readFile: async (p) => files[p] ?? Promise.reject(new Error(`ENOENT ${p}`)) });
    expect((await h.engine.loadWorkflowFromFile('/wf/a.yaml')).workflow.name).toBe('from_file');
  });
});
