/**
 * The execution document of DESIGN.md (REST API), built from a stored
 * record: steps in written order, the ones that never left `pending` filled
 * in, internal bookkeeping (deadlines, sequence numbers, keys) left out.
 */
import type { SerializedError } from './errors.js';
import type { CompensationRecord, ExecutionRecord, StepRecord } from './execution-store.js';
import type { CompensationStatus, ExecutionStatus, StepStatus } from './statuses.js';

/** One step in an execution document. */
export interface StepDocument {
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  result?: unknown;
  error?: SerializedError;
  compensation?: { status: CompensationStatus; attempts: number; error?: SerializedError };
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
  if (step.compensation) doc.compensation = toCompensationDocument(step.compensation);
  return doc;
}

function toCompensationDocument(c: CompensationRecord): NonNullable<StepDocument['compensation']> {
  const doc: NonNullable<StepDocument['compensation']> = { status: c.status, attempts: c.attempts };
  if (c.error) doc.error = c.error;
  return doc;
}
