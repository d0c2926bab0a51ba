/**
 * A step caller for engine tests that behaves like a real one: each tool has
 * a script (delays, failures by attempt, results), calls honour their abort
 * signal, and every call is recorded with its timing so tests can assert
 * overlap, order and concurrency. Timers are the platform's, so fake timers
 * drive it.
 */
import {
  ErrorCode,
  OrchestratorError,
  type StepCaller,
  type StepCallRequest,
} from '../../src/engine/index.js';

/** One recorded call. */
export interface CallRecord {
  request: StepCallRequest;
  startedAt: number;
  endedAt?: number;
  outcome?: 'ok' | 'error' | 'aborted';
}

/** What a tool does on one call. */
export type ToolScript = (request: StepCallRequest, signal: AbortSignal) => Promise<unknown>;

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Answers `value` (or `value(request)`) after `delayMs`. */
export function respond(value: (request: StepCallRequest) => unknown, delayMs?: number): ToolScript;
export function respond(value: unknown, delayMs?: number): ToolScript;
export function respond(value: unknown, delayMs = 0): ToolScript {
  return async (request, signal) => {
    await sleep(delayMs, signal);
    return typeof value === 'function' ? (value as (r: StepCallRequest) => unknown)(request) : value;
  };
}

/** Fails the first `times` attempts with `error`, then follows `then`. */
export function failTimes(times: number, error: () => Error, then: ToolScript, delayMs = 0): ToolScript {
  return async (request, signal) => {
    await sleep(delayMs, signal);
    if (request.attempt <= times) throw error();
    return then(request, signal);
  };
}

/** Always fails with `error`. */
export function fail(error: () => Error, delayMs = 0): ToolScript {
  return failTimes(Number.POSITIVE_INFINITY, error, () => Promise.resolve(undefined), delayMs);
}

/** Never answers; ends only when aborted. */
export function hang(): ToolScript {
  return (_request, signal) => sleep(2 ** 31 - 1, signal).then(() => undefined);
}

/** A transient failure (retried). */
export const transient = () => new OrchestratorError(ErrorCode.McpTransport, 'HTTP 503 from MCP');
/** A failure no retry can mend. */
export const invalidParams = () =>
  new OrchestratorError(ErrorCode.InvalidParams, 'invalid params: phone is required');

/** The scripted caller. */
export class ScriptedCaller implements StepCaller {
  readonly calls: CallRecord[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly scripts: Record<string, ToolScript> = {}) {}

  /** Sets or replaces a tool's script. */
  on(tool: string, script: ToolScript): this {
    this.scripts[tool] = script;
    return this;
  }

  async call(request: StepCallRequest, signal: AbortSignal): Promise<unknown> {
    const record: CallRecord = { request, startedAt: Date.now() };
    this.calls.push(record);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const script = this.scripts[request.tool];
    try {
      if (!script) throw new OrchestratorError(ErrorCode.UnknownTool, `no tool '${request.tool}'`);
      const result = await script(request, signal);
      record.outcome = 'ok';
      return result;
    } catch (error) {
      record.outcome = signal.aborted ? 'aborted' : 'error';
      throw error;
    } finally {
      record.endedAt = Date.now();
      this.inFlight -= 1;
    }
  }

  /** Calls of one step (compensations excluded unless asked). */
  callsOf(step: string, compensation = false): CallRecord[] {
    return this.calls.filter((c) => c.request.step === step && c.request.compensation === compensation);
  }
}
