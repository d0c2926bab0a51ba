/**
 * What an execution run needs from the engine that owns it. One instance is
 * shared by every run of an engine.
 */
import type { CallRunner } from './call-runner.js';
import type { CallTarget } from './compiled-workflow.js';
import type { EngineEventMap } from './events.js';
import type { ExecutionStore } from './execution-store.js';
import type { Clock, StepCaller } from './ports.js';

/** Shared services of all runs of one engine. */
export interface RunEnvironment {
  store: ExecutionStore;
  caller: StepCaller;
  clock: Clock;
  calls: CallRunner;
  /** `INSTANCE_ID` of this replica, recorded as the execution's owner. */
  instanceId: string;
  /** Per-attempt timeout when neither the step nor its MCP sets one, ms. */
  defaultStepTimeoutMs: number;
  emit<K extends keyof EngineEventMap>(name: K, ...args: EngineEventMap[K]): void;
}

/** The step's own timeout, else its MCP's (through the caller port), else the engine default. */
export function resolveTimeout(
  env: RunEnvironment,
  explicit: number | undefined,
  target: { mcp?: string; capability?: string },
): number {
  return explicit ?? env.caller.defaultTimeoutMs?.(target) ?? env.defaultStepTimeoutMs;
}

/**
 * One attempt's call of a step (or of its compensation) through the step
 * caller, with the idempotency key that is the same on every attempt.
 */
export function toolCall(
  env: RunEnvironment,
  execution: { id: string; workflow: { name: string; version: string } },
  step: string,
  target: CallTarget,
  params: Record<string, unknown>,
  timeoutMs: number,
  compensation: boolean,
): (attempt: number, signal: AbortSignal) => Promise<unknown> {
  const idempotencyKey = compensation ? `${execution.id}:${step}:compensation` : `${execution.id}:${step}`;
  return (attempt, signal) =>
    env.caller.call(
      {
        executionId: execution.id,
        workflow: execution.workflow,
        step,
        ...target,
        params,
        idempotencyKey,
        attempt,
        timeoutMs,
        compensation,
      },
      signal,
    );
}
