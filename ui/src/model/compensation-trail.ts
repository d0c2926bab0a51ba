/**
 * The saga's rollback, step by step, in the order it runs: the order the
 * `workflow_compensation_started` event announced when the console saw it,
 * else the engine's rule (DESIGN.md, "Failure and saga"): reverse order of
 * completion, which the steps' completion times give.
 */
import type { ExecutionDocument, SerializedError, StepDocument } from '../api/types.js';

/** One compensation of the trail. */
export interface TrailEntry {
  step: string;
  status: 'waiting' | 'running' | 'completed' | 'failed';
  attempts: number;
  error?: SerializedError;
}

/** The compensations of `doc`, in rollback order; `announced` is the order the stream gave. */
export function compensationTrail(doc: ExecutionDocument, announced?: readonly string[]): TrailEntry[] {
  const written = Object.keys(doc.steps);
  const compensated = written.filter((name) => doc.steps[name]?.compensation !== undefined);
  const byCompletion = [...compensated].sort((a, b) => {
    const at = (name: string) => doc.steps[name]?.completedAt ?? '';
    // Later completion first; a tie (same millisecond) falls back to later in the written order.
    return at(b).localeCompare(at(a)) || written.indexOf(b) - written.indexOf(a);
  });
  const order = announced
    ? [...announced, ...byCompletion.filter((n) => !announced.includes(n))]
    : byCompletion;
  return order.map((step) => entry(step, doc.steps[step]));
}

function entry(step: string, document: StepDocument | undefined): TrailEntry {
  const compensation = document?.compensation;
  if (!compensation) {
    return { step, status: document?.status === 'compensating' ? 'running' : 'waiting', attempts: 0 };
  }
  return {
    step,
    status: compensation.status,
    attempts: compensation.attempts,
    ...(compensation.error ? { error: compensation.error } : {}),
  };
}
