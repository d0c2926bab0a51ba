/**
 * What an execution run needs from the engine that owns it. One instance is
 * shared by every run of an engine.
 */
import type { CallRunner } from './call-runner.js';
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
