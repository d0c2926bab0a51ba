/**
 * The saga's rollback, step by step, in the order it runs: the compensations
 * that ran (or run) by their place in the rollback (`order`, stored by the
 * server), then those still to come in the order the
 * `workflow_compensation_started` event announced when the console saw it,
 * else by the engine's rule (DESIGN.md, "Failure and saga"): reverse order
 * of completion, which the steps' completion times give.
 */
import type { CompensationDocument, ExecutionDocument, StepDocument } from '../api/types.js';

/** One compensation of the trail: the document's, or one still `waiting` to run. */
export interface TrailEntry extends Omit<CompensationDocument, 'status'> {
  step: string;
  status: 'waiting' | CompensationDocument['status'];
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
  const planned = announced
    ? [...announced, ...byCompletion.filter((n) => !announced.includes(n))]
    : byCompletion;
  const placeOf = (name: string) => doc.steps[name]?.compensation?.order;
  const begun = planned.filter((n) => placeOf(n) !== undefined).sort((a, b) => placeOf(a)! - placeOf(b)!);
  const toCome = planned.filter((n) => placeOf(n) === undefined);
  return [...begun, ...toCome].map((step) => entry(step, doc.steps[step]));
}

function entry(step: string, document: StepDocument | undefined): TrailEntry {
  const compensation = document?.compensation;
  if (!compensation) {
    return { step, status: document?.status === 'compensating' ? 'running' : 'waiting', attempts: 0 };
  }
  return { step, ...compensation };
}
