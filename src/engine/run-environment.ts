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
  emit<K extends keyof EngineEventMap>(name: K, ...args: EngineEventMap[K]): void;
}
