/**
 * The row shape both SQL stores share, and its mapping to and from the
 * engine's records. Times stay ISO strings and documents JSON text, so a
 * record reads back exactly as it was written, on SQLite and PostgreSQL.
 */
import type { ExecutionPatch, ExecutionRecord, StepRecord, WorkflowRecord } from '../engine/index.js';

/** A row of the executions table. */
export interface ExecutionRow {
  id: string;
  workflow_name: string;
  workflow_version: string;
  status: string;
  owner: string | null;
  input: string | null;
  output: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  duration_ms: number | null;
  deadline_at: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  cancel_reason: string | null;
}

/** A row of the workflows table. */
export interface WorkflowRow {
  name: string;
  version: string;
  definition: string;
  registered_at: string;
}

/** Column and encoding of each patchable execution field. */
export const PATCH_COLUMNS: Record<keyof ExecutionPatch, { column: string; json: boolean }> = {
  status: { column: 'status', json: false },
  owner: { column: 'owner', json: false },
  output: { column: 'output', json: true },
  error: { column: 'error', json: true },
  startedAt: { column: 'started_at', json: false },
  completedAt: { column: 'completed_at', json: false },
  durationMs: { column: 'duration_ms', json: false },
  deadlineAt: { column: 'deadline_at', json: false },
  cancelReason: { column: 'cancel_reason', json: false },
};

/** JSON text, or null for undefined. */
export function encodeJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function decodeJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** A workflow row as a record. */
export function toWorkflowRecord(row: WorkflowRow): WorkflowRecord {
  return {
    name: row.name,
    version: row.version,
    definition: JSON.parse(row.definition),
    registeredAt: row.registered_at,
  };
}

/** An execution record as a row (without its steps). */
export function toRow(record: ExecutionRecord): ExecutionRow {
  return {
    id: record.id,
    workflow_name: record.workflow.name,
    workflow_version: record.workflow.version,
    status: record.status,
    owner: record.owner,
    input: encodeJson(record.input),
    output: encodeJson(record.output),
    error: encodeJson(record.error),
    created_at: record.createdAt,
    started_at: record.startedAt,
    completed_at: record.completedAt,
    duration_ms: record.durationMs,
    deadline_at: record.deadlineAt,
    idempotency_key: record.idempotencyKey ?? null,
    request_hash: record.requestHash ?? null,
    cancel_reason: record.cancelReason ?? null,
  };
}

/** A step row as both adapters read it for a page of executions. */
export interface StepRow {
  execution_id: string;
  name: string;
  state: string;
}

/** Step rows of several executions, grouped by execution id (for {@link toRecord}). */
export function stepsByExecution(stepRows: readonly StepRow[]): Map<string, Record<string, StepRecord>> {
  const steps = new Map<string, Record<string, StepRecord>>();
  for (const row of stepRows) {
    let map = steps.get(row.execution_id);
    if (!map) {
      map = {};
      steps.set(row.execution_id, map);
    }
    map[row.name] = JSON.parse(row.state) as StepRecord;
  }
  return steps;
}

/** An execution row and its steps as a record. */
export function toRecord(row: ExecutionRow, steps: Record<string, StepRecord>): ExecutionRecord {
  const record: ExecutionRecord = {
    id: row.id,
    workflow: { name: row.workflow_name, version: row.workflow_version },
    status: row.status as ExecutionRecord['status'],
    owner: row.owner,
    input: decodeJson(row.input),
    output: decodeJson(row.output),
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    durationMs: row.duration_ms,
    deadlineAt: row.deadline_at,
    steps,
  };
  if (row.error !== null) record.error = JSON.parse(row.error);
  if (row.idempotency_key !== null) record.idempotencyKey = row.idempotency_key;
  if (row.request_hash !== null) record.requestHash = row.request_hash;
  if (row.cancel_reason !== null) record.cancelReason = row.cancel_reason;
  return record;
}
