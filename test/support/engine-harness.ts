/**
 * Builds an engine on a real in-memory SQLite store for unit tests, records
 * its events, and drives fake timers until a promise settles.
 */
import { vi } from 'vitest';
import {
  type EngineEventMap,
  EXECUTION_EVENT_NAMES,
  WorkflowEngine,
  type WorkflowEngineOptions,
} from '../../src/engine/index.js';
import { SqliteExecutionStore } from '../../src/store/index.js';
import { ScriptedCaller } from './scripted-caller.js';

/** One recorded event. */
export interface RecordedEvent {
  name: keyof EngineEventMap;
  payload: Record<string, unknown>;
}

/** An engine, its caller and store, and the events it emitted. */
export interface Harness {
  engine: WorkflowEngine;
  caller: ScriptedCaller;
  store: SqliteExecutionStore;
  events: RecordedEvent[];
  /** Event names of one execution, in order. */
  eventNames(executionId?: string): string[];
}

/** Creates an engine with a scripted caller and an in-memory SQLite store. */
export function createHarness(
  options: Partial<WorkflowEngineOptions> = {},
  caller = new ScriptedCaller(),
): Harness {
  const store =
    (options.store as SqliteExecutionStore | undefined) ?? new SqliteExecutionStore({ path: ':memory:' });
  const engine = new WorkflowEngine({ instanceId: 'test-1', ...options, store, stepCaller: caller });
  const events: RecordedEvent[] = [];
  for (const name of EXECUTION_EVENT_NAMES) {
    const listener = (payload: object) => events.push({ name, payload: payload as Record<string, unknown> });
    (engine as unknown as NodeJS.EventEmitter).on(name, listener);
  }
  return {
    engine,
    caller,
    store,
    events,
    eventNames: (executionId) =>
      events
        .filter((e) => executionId === undefined || e.payload.executionId === executionId)
        .map((e) => {
          const step = e.payload.step;
          return typeof step === 'string' ? `${e.name}:${step}` : e.name;
        }),
  };
}

/** Advances fake timers in small steps until `promise` settles (or `maxMs` of fake time passes). */
export async function drive<T>(promise: Promise<T>, maxMs = 600_000, stepMs = 5): Promise<T> {
  let settled = false;
  let value: T | undefined;
  let error: unknown;
  promise.then(
    (v) => {
      settled = true;
      value = v;
    },
    (e: unknown) => {
      settled = true;
      error = e;
    },
  );
  for (let elapsed = 0; !settled && elapsed <= maxMs; elapsed += stepMs) {
    await vi.advanceTimersByTimeAsync(stepMs);
  }
  if (!settled) throw new Error(`promise did not settle within ${maxMs} ms of fake time`);
  if (error !== undefined) throw error;
  return value as T;
}

/** Polls `check` on fake time until it is true. */
export async function until(check: () => boolean, maxMs = 600_000, stepMs = 5): Promise<void> {
  for (let elapsed = 0; elapsed <= maxMs; elapsed += stepMs) {
    if (check()) return;
    await vi.advanceTimersByTimeAsync(stepMs);
  }
  throw new Error(`condition not met within ${maxMs} ms of fake time`);
}
