import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHarness, drive, until } from '../../test/support/engine-harness.js';
import {
  fail,
  failTimes,
  hang,
  respond,
  ScriptedCaller,
  transient,
} from '../../test/support/scripted-caller.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** a -> b -> c -> d in written order; a and b undoable, c not, d fails. */
const booking = {
  name: 'booking',
  version: '1',
  steps: [
    {
      name: 'reserve',
      mcp: 'm',
      action: 'reserve',
      compensation: { action: 'release', params: { id: '$steps.reserve.result.id' } },
    },
    {
      name: 'charge',
      mcp: 'm',
      action: 'charge',
      compensation: { action: 'refund', params: { id: '$steps.charge.result.id' } },
    },
    { name: 'log', mcp: 'm', action: 'log' },
    { name: 'confirm', mcp: 'm', action: 'confirm', retries: 1, backoff: { initialDelay: 10, maxDelay: 10 } },
  ],
};

function bookingCaller(): ScriptedCaller {
  return new ScriptedCaller({
    reserve: respond({ id: 'r-1' }, 10),
    charge: respond({ id: 'c-1' }, 10),
    log: respond('logged', 10),
    confirm: fail(transient, 10),
    release: respond('released', 5),
    refund: respond('refunded', 5),
  });
}

describe('saga compensation', () => {
  it('compensates completed steps in reverse order of completion, only those with a compensation', async () => {
    const h = createHarness({}, bookingCaller());
    await h.engine.registerWorkflow(booking);
    const doc = await drive(h.engine.executeWorkflow('booking', {}));

    expect(doc.status).toBe('compensated');
    const compensations = h.caller.calls.filter((c) => c.request.compensation);
    expect(compensations.map((c) => [c.request.tool, c.request.params])).toEqual([
      ['refund', { id: 'c-1' }],
      ['release', { id: 'r-1' }],
    ]);
    expect(compensations[0]!.request.idempotencyKey).toBe(`${doc.id}:charge:compensation`);
    expect(compensations[0]!.request.mcp).toBe('m');
    expect(doc.steps.reserve).toMatchObject({
      status: 'compensated',
      compensation: { status: 'completed', attempts: 1, order: 2 },
    });
    // The trail in order, with the times and results of each undo.
    const charge = doc.steps.charge!.compensation!;
    const reserve = doc.steps.reserve!.compensation!;
    expect(charge.order).toBe(1);
    expect(Date.parse(charge.startedAt!)).toBe(compensations[0]!.startedAt);
    expect(Date.parse(reserve.completedAt!)).toBe(compensations[1]!.endedAt);
    expect(Date.parse(charge.completedAt!)).toBeLessThanOrEqual(Date.parse(reserve.startedAt!));
    expect(charge.durationMs).toBe(Date.parse(charge.completedAt!) - Date.parse(charge.startedAt!));
    expect([charge.result, reserve.result]).toEqual(['refunded', 'released']);
    expect(doc.steps.charge).toMatchObject({ status: 'compensated', result: { id: 'c-1' } });
    expect(doc.steps.log).toMatchObject({ status: 'completed' });
    expect(doc.steps.log!.compensation).toBeUndefined();
    expect(doc.steps.confirm).toMatchObject({ status: 'failed', attempts: 2 });
    expect(doc.error).toMatchObject({ code: 'ORCH_STEP_FAILED', details: { step: 'confirm' } });
    expect(h.eventNames(doc.id).slice(-5)).toEqual([
      'step_failed:confirm',
      'workflow_compensation_started',
      'step_compensated:charge',
      'step_compensated:reserve',
      'workflow_completed',
    ]);
    const started = h.events.find((e) => e.name === 'workflow_compensation_started')!;
    expect(started.payload).toMatchObject({ reason: 'failed', steps: ['charge', 'reserve'] });
    expect(h.events.at(-1)!.payload).toMatchObject({ status: 'compensated' });
  });

  it('ends as failed when nothing needed compensating', async () => {
    const caller = new ScriptedCaller({ ok: respond('fine'), bad: fail(transient) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'f',
      version: '1',
      steps: [
        { name: 'a', mcp: 'm', action: 'ok' },
        { name: 'b', mcp: 'm', action: 'bad' },
        { name: 'c', mcp: 'm', action: 'ok' },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('f', {}));
    expect(doc.status).toBe('failed');
    expect(doc.steps.c!.status).toBe('cancelled');
    expect(h.eventNames(doc.id)).not.toContain('workflow_compensation_started');
  });

  it('keeps compensating after one compensation fails, then ends as compensation_failed', async () => {
    const caller = bookingCaller().on('refund', failTimes(1, transient, respond('late refund')));
    caller.on('release', fail(transient));
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      ...booking,
      steps: booking.steps.map((s) =>
        s.compensation
          ? {
              ...s,
              compensation: { ...s.compensation, retries: 2, backoff: { initialDelay: 5, maxDelay: 5 } },
            }
          : s,
      ),
    });
    const doc = await drive(h.engine.executeWorkflow('booking', {}));
    expect(doc.status).toBe('compensation_failed');
    expect(doc.steps.charge).toMatchObject({
      status: 'compensated',
      compensation: { status: 'completed', attempts: 2 },
    });
    expect(doc.steps.reserve).toMatchObject({
      status: 'compensation_failed',
      compensation: { status: 'failed', attempts: 3, error: { code: 'ORCH_MCP_TRANSPORT' } },
    });
    const compensated = h.events
      .filter((e) => e.name === 'step_compensated')
      .map((e) => [e.payload.step, e.payload.status]);
    expect(compensated).toEqual([
      ['charge', 'compensated'],
      ['reserve', 'compensation_failed'],
    ]);
  });

  it('aborts running siblings on failure; one stopped mid-call is compensated first', async () => {
    const caller = new ScriptedCaller({
      quick: respond('q', 10),
      slow: hang(),
      plain: hang(),
      boom: fail(transient, 50),
      undo: respond('undone'),
    });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'siblings',
      version: '1',
      steps: [
        { name: 'first', mcp: 'm', action: 'quick', compensation: { action: 'undo' } },
        { name: 'slow', mcp: 'm', action: 'slow', compensation: { action: 'undo' } },
        { name: 'plain', mcp: 'm', action: 'plain', parallel: true },
        { name: 'boom', mcp: 'm', action: 'boom', parallel: true },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('siblings', {}));
    expect(caller.callsOf('slow')[0]!.outcome).toBe('aborted');
    expect(caller.callsOf('plain')[0]!.outcome).toBe('aborted');
    expect(doc.steps.plain).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(doc.steps.slow).toMatchObject({ status: 'compensated', attempts: 1 });
    expect(caller.calls.filter((c) => c.request.compensation).map((c) => c.request.step)).toEqual([
      'slow',
      'first',
    ]);
    expect(doc.status).toBe('compensated');
  });

  it('does not compensate a step that was waiting in backoff when the rollback began', async () => {
    const caller = new ScriptedCaller({
      flaky: fail(transient, 5),
      boom: fail(transient, 20),
      undo: respond('undone'),
    });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'backoff',
      version: '1',
      steps: [
        {
          name: 'flaky',
          mcp: 'm',
          action: 'flaky',
          retries: 5,
          backoff: { initialDelay: 10_000, maxDelay: 10_000 },
          compensation: { action: 'undo' },
        },
        { name: 'boom', mcp: 'm', action: 'boom', parallel: true },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('backoff', {}));
    expect(doc.status).toBe('failed');
    expect(doc.steps.flaky).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(caller.calls.filter((c) => c.request.compensation)).toHaveLength(0);
    // The rollback did not wait for the 10 s backoff.
    expect(doc.durationMs).toBeLessThan(100);
  });
});

describe('cancel and workflow timeout', () => {
  it('cancels a running execution: aborts the in-flight call and compensates what completed', async () => {
    const caller = new ScriptedCaller({
      reserve: respond({ id: 'r' }, 10),
      wait: hang(),
      release: respond('released'),
    });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'c',
      version: '1',
      steps: [
        { name: 'reserve', mcp: 'm', action: 'reserve', compensation: { action: 'release' } },
        { name: 'wait', mcp: 'm', action: 'wait' },
      ],
    });
    const { execution } = await h.engine.startWorkflow('c', {});
    await until(() => caller.callsOf('wait').length === 1);
    const cancelling = await h.engine.cancelWorkflow(execution.id, 'operator request');
    // The rollback proceeds in the background; the answer is the document as the cancel found it.
    expect(cancelling.status).toBe('running');
    const doc = await drive(h.engine.waitForExecution(execution.id));
    expect(doc).toMatchObject({ status: 'cancelled', error: { code: 'ORCH_CANCELLED' } });
    expect(doc!.error!.message).toBe('execution cancelled: operator request');
    expect(caller.callsOf('wait')[0]!.outcome).toBe('aborted');
    expect(doc!.steps.reserve!.status).toBe('compensated');
    expect(h.events.find((e) => e.name === 'workflow_cancelled')?.payload.reason).toBe('operator request');
    expect(h.events.at(-1)).toMatchObject({ name: 'workflow_completed', payload: { status: 'cancelled' } });

    const again = await h.engine.cancelWorkflow(execution.id).catch((e: { code: string }) => e.code);
    expect(again).toBe('ORCH_EXECUTION_FINISHED');
    expect(await h.engine.cancelWorkflow('missing').catch((e: { code: string }) => e.code)).toBe(
      'ORCH_EXECUTION_NOT_FOUND',
    );
  });

  it('cancels a queued execution without calling anything', async () => {
    const caller = new ScriptedCaller({ wait: hang() });
    const h = createHarness({ maxConcurrentWorkflows: 1 }, caller);
    await h.engine.registerWorkflow({
      name: 'q',
      version: '1',
      steps: [{ name: 's', mcp: 'm', action: 'wait' }],
    });
    await h.engine.startWorkflow('q', {});
    const { execution } = await h.engine.startWorkflow('q', {});
    expect(execution.status).toBe('queued');
    const doc = await h.engine.cancelWorkflow(execution.id, 'not needed');
    expect(doc.status).toBe('cancelled');
    expect(caller.calls).toHaveLength(1);
    expect(h.eventNames(execution.id)).toEqual(['workflow_cancelled', 'workflow_completed']);
    expect((await h.store.getExecution(execution.id))?.status).toBe('cancelled');
  });

  it('times out the whole workflow, aborting in-flight calls, and compensates', async () => {
    const caller = new ScriptedCaller({
      reserve: respond({ id: 'r' }, 100),
      wait: hang(),
      release: respond('ok'),
    });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'to',
      version: '1',
      timeout: 1000,
      steps: [
        { name: 'reserve', mcp: 'm', action: 'reserve', compensation: { action: 'release' } },
        { name: 'wait', mcp: 'm', action: 'wait', timeout: 60_000 },
      ],
    });
    const doc = await drive(h.engine.executeWorkflow('to', {}));
    expect(doc).toMatchObject({ status: 'timed_out', error: { code: 'ORCH_WORKFLOW_TIMEOUT' } });
    expect(caller.callsOf('wait')[0]!.outcome).toBe('aborted');
    expect(caller.callsOf('wait')[0]!.endedAt).toBe(caller.calls[0]!.startedAt + 1000);
    expect(doc.steps.wait).toMatchObject({ status: 'cancelled', error: { code: 'ORCH_WORKFLOW_TIMEOUT' } });
    expect(doc.steps.reserve!.status).toBe('compensated');
  });

  it('ends as compensation_failed when a cancel rolls back into a failing compensation', async () => {
    const caller = new ScriptedCaller({ reserve: respond('r', 10), wait: hang(), release: fail(transient) });
    const h = createHarness({}, caller);
    await h.engine.registerWorkflow({
      name: 'cf',
      version: '1',
      steps: [
        { name: 'reserve', mcp: 'm', action: 'reserve', compensation: { action: 'release', retries: 0 } },
        { name: 'wait', mcp: 'm', action: 'wait' },
      ],
    });
    const { execution } = await h.engine.startWorkflow('cf', {});
    await until(() => caller.callsOf('wait').length === 1);
    await h.engine.cancelWorkflow(execution.id);
    const doc = await drive(h.engine.waitForExecution(execution.id));
    expect(doc?.status).toBe('compensation_failed');
  });
});
