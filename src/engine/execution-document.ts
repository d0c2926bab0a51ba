/**
 * The execution document of DESIGN.md (REST API), built from a stored
 * record: steps in written order, the ones that never left `pending` filled
 * in, internal bookkeeping (deadlines, sequence numbers, keys) left out.
 */
import { failureOutcome } from './attempt-history.js';
import type { SerializedError } from './errors.js';
import type {
  AttemptOutcome,
  AttemptRecord,
  CompensationRecord,
  ExecutionRecord,
  StepRecord,
} from './execution-store.js';
import type { ExecutionStatus, StepStatus } from './statuses.js';

/** One attempt of a step in an execution document: as stored. */
export type AttemptDocument = AttemptRecord;

/** A step's compensation in an execution document: as stored, with its duration. */
export interface CompensationDocument extends CompensationRecord {
  durationMs?: number;
}

/** One step in an execution document. */
export interface StepDocument {
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  result?: unknown;
  error?: SerializedError;
  /** Every attempt made (the latest 20), with its times and outcome; absent before the first. */
  attemptHistory?: AttemptDocument[];
  compensation?: CompensationDocument;
}

/** An execution as the API and library show it. */
export interface ExecutionDocument {
  id: string;
  workflow: { name: string; version: string };
  status: ExecutionStatus;
  owner: string | null;
  input: unknown;
  output: unknown;
  error?: SerializedError;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  steps: Record<string, StepDocument>;
}

const PENDING: StepDocument = Object.freeze({
  status: 'pending',
  attempts: 0,
  startedAt: null,
  completedAt: null,
  durationMs: null,
}) as StepDocument;

/** Builds the document; `stepNames` (written order) fills in steps that never started. */
export function toExecutionDocument(
  record: ExecutionRecord,
  stepNames?: readonly string[],
): ExecutionDocument {
  const steps: Record<string, StepDocument> = {};
  for (const name of stepNames ?? []) {
    const step = record.steps[name];
    steps[name] = step ? toStepDocument(step) : { ...PENDING };
  }
  for (const [name, step] of Object.entries(record.steps)) {
    if (!(name in steps)) steps[name] = toStepDocument(step);
  }
  const doc: ExecutionDocument = {
    id: record.id,
    workflow: { ...record.workflow },
    status: record.status,
    owner: record.owner,
    input: record.input,
    output: record.output ?? null,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    durationMs: record.durationMs,
    steps,
  };
  if (record.error) doc.error = record.error;
  return doc;
}

function toStepDocument(step: StepRecord): StepDocument {
  const doc: StepDocument = {
    status: step.status,
    attempts: step.attempts,
    startedAt: step.startedAt,
    completedAt: step.completedAt,
    durationMs: step.durationMs,
  };
  if (step.result !== undefined) doc.result = step.result;
  if (step.error) doc.error = step.error;
  const history = attemptHistory(step);
  if (history) doc.attemptHistory = history;
  if (step.compensation) doc.compensation = toCompensationDocument(step.compensation);
  return doc;
}

/** The stored attempts; a step tried once (nothing stored) is told by its own times. */
function attemptHistory(step: StepRecord): AttemptDocument[] | undefined {
  if (step.attemptHistory) return step.attemptHistory.map((a: AttemptRecord) => ({ ...a }));
  if (step.startedAt === null || step.attempts < 1) return undefined;
  const only: AttemptDocument = {
    attempt: step.attempts,
    startedAt: step.startedAt,
    completedAt: step.completedAt,
    durationMs: step.durationMs,
  };
  const outcome = singleOutcome(step);
  if (outcome) only.outcome = outcome;
  if (step.error && outcome !== 'completed') only.error = step.error;
  return [only];
}

function singleOutcome(step: StepRecord): AttemptOutcome | undefined {
  switch (step.status) {
    case 'completed':
    case 'compensating':
    case 'compensated':
    case 'compensation_failed':
      return 'completed';
    case 'failed':
      return failureOutcome(step.error?.code);
    case 'cancelled':
      return 'cancelled';
    default:
      return undefined;
  }
}

function toCompensationDocument(c: CompensationRecord): CompensationDocument {
  const doc: CompensationDocument = { ...c };
  if (c.startedAt && c.completedAt) doc.durationMs = Date.parse(c.completedAt) - Date.parse(c.startedAt);
  return doc;
}
