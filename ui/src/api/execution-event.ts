import { EXECUTION_EVENT_NAMES } from '../../../src/engine/events.js';
import type { EngineEventMap } from './types.js';

/** Name of an event on `GET /executions/:id/events`. */
export type ExecutionEventName = (typeof EXECUTION_EVENT_NAMES)[number];

/** One event of an execution's stream: its name and the engine's payload. */
export type ExecutionEvent = {
  [K in ExecutionEventName]: { name: K; payload: EngineEventMap[K][0] };
}[ExecutionEventName];

const NAMES: ReadonlySet<string> = new Set(EXECUTION_EVENT_NAMES);

/** The event, or undefined for a name this console does not know (a newer server). */
export function toExecutionEvent(name: string, data: string): ExecutionEvent | undefined {
  if (!NAMES.has(name)) return undefined;
  return { name, payload: JSON.parse(data) } as ExecutionEvent;
}
