import { BrokenCircuitError } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, OrchestratorError } from '../engine/index.js';
import { type BreakerState, EndpointBreaker } from './endpoint-breaker.js';
import { countsAgainstBreaker, httpStatusError, McpRemoteError } from './mcp-errors.js';

const signal = new AbortController().signal;
const ctx = { mcp: 'm', endpoint: 'primary', tool: 't' };

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-01-01T00:00:00.000Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

function breaker() {
  const changes: [BreakerState, BreakerState][] = [];
  const b = new EndpointBreaker({
    settings: { failureThreshold: 3, resetTimeout: 1000 },
    countsAsFailure: countsAgainstBreaker,
    onStateChange: (previous, next) => changes.push([previous, next]),
  });
  return { b, changes };
}

const fails = (error: Error) => () => Promise.reject(error);
const ok = () => Promise.resolve('ok');

describe('EndpointBreaker', () => {
  it('opens after consecutive transport failures, fails fast, half-opens after resetTimeout and closes on success', async () => {
    const { b, changes } = breaker();
    for (let i = 0; i < 3; i++)
      await expect(b.execute(fails(httpStatusError(503, ctx)), signal)).rejects.toThrow('HTTP 503');
    expect(b.snapshot()).toEqual({ state: 'open', failures: 3, openedAt: '2026-01-01T00:00:00.000Z' });
    const call = vi.fn(ok);
    await expect(b.execute(call, signal)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(call).not.toHaveBeenCalled();
    expect(b.isOpen).toBe(true);

    vi.setSystemTime(new Date('2026-01-01T00:00:01.000Z'));
    expect(b.isOpen).toBe(false);
    await expect(b.execute(call, signal)).resolves.toBe('ok');
    expect(b.snapshot()).toEqual({ state: 'closed', failures: 0 });
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ]);
  });

  it('reopens when the half-open trial fails', async () => {
    const { b, changes } = breaker();
    for (let i = 0; i < 3; i++)
      await b.execute(fails(httpStatusError(500, ctx)), signal).catch(() => undefined);
    vi.setSystemTime(new Date('2026-01-01T00:00:05.000Z'));
    await expect(b.execute(fails(httpStatusError(502, ctx)), signal)).rejects.toThrow('HTTP 502');
    expect(b.snapshot()).toMatchObject({ state: 'open', openedAt: '2026-01-01T00:00:05.000Z' });
    expect(changes.at(-1)).toEqual(['half-open', 'open']);
  });

  it('is not opened by answers that blame the request: invalid params, other 4xx, cancels', async () => {
    const { b } = breaker();
    const remote = new McpRemoteError({ code: -32602, message: 'bad' }, ctx);
    const cancelled = new OrchestratorError(ErrorCode.Cancelled, 'cancelled');
    for (let i = 0; i < 5; i++) {
      await b.execute(fails(remote), signal).catch(() => undefined);
      await b.execute(fails(httpStatusError(400, ctx)), signal).catch(() => undefined);
      await b.execute(fails(cancelled), signal).catch(() => undefined);
    }
    expect(b.snapshot()).toEqual({ state: 'closed', failures: 0 });
    // Timeouts, 408 and 429 count.
    await b
      .execute(fails(new OrchestratorError(ErrorCode.StepTimeout, 'slow')), signal)
      .catch(() => undefined);
    await b.execute(fails(httpStatusError(408, ctx)), signal).catch(() => undefined);
    await b.execute(fails(httpStatusError(429, ctx)), signal).catch(() => undefined);
    expect(b.snapshot().state).toBe('open');
  });

  it('reopens when a half-open trial is cancelled, or answered with a 4xx: only a success closes it', async () => {
    for (const trialError of [
      new OrchestratorError(ErrorCode.Cancelled, 'cancelled'),
      httpStatusError(400, ctx),
    ]) {
      const { b } = breaker();
      for (let i = 0; i < 3; i++)
        await b.execute(fails(httpStatusError(500, ctx)), signal).catch(() => undefined);
      vi.setSystemTime(new Date(Date.now() + 1000));
      await b.execute(fails(trialError), signal).catch(() => undefined);
      expect(b.snapshot().state).toBe('open');
    }
  });

  it('closes on a manual reset and reports it', async () => {
    const { b, changes } = breaker();
    for (let i = 0; i < 3; i++)
      await b.execute(fails(httpStatusError(500, ctx)), signal).catch(() => undefined);
    b.reset();
    expect(b.snapshot()).toEqual({ state: 'closed', failures: 0 });
    expect(changes.at(-1)).toEqual(['open', 'closed']);
    await expect(b.execute(ok, signal)).resolves.toBe('ok');
  });
});
