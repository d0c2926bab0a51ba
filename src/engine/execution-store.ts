/**
 * The execution store port. Every state change of an execution goes through
 * it and is committed before the engine acts on it, so a restarted process
 * can resume from the records (definition snapshot by version, step results,
 * attempt counts, deadlines). Adapters live in `src/store/`.
 */
import type { WorkflowDefinition } from './definition.js';
import type { SerializedError } from './errors.js';
import type { CompensationStatus, ExecutionStatus, StepStatus } from './statuses.js';

/** What {@link ExecutionStore.renewLeases} found. */
export interface LeaseRenewal {
  lost: string[];
  cancelled: { id: string; reason: string }[];
}

/** What {@link ExecutionStore.claimExecutions} takes over. */
export interface LeaseClaim {
  owner: string;
  limit: number;
  leaseMs: number;
  /** Also claim unfinished executions already owned by `owner`, whatever their lease. */
  own: boolean;
  /**
   * Also claim executions still queued at other live replicas (they have no
   * room to run them yet): the replica that loses one finds out at its next
   * renewal or its first write, and lets it go.
   */
  queued?: boolean;
}

/** A registered workflow version. */
export interface WorkflowRecord {
  name: string;
  version: string;
  definition: WorkflowDefinition;
  registeredAt: string;
}

/** State of a step's compensation. */
export interface CompensationRecord {
  status: CompensationStatus;
  attempts: number;
  /** Place in the rollback: 1 for the first compensation run, and so on (also across a restart). */
  order?: number;
  startedAt?: string;
  completedAt?: string;
  /** What the compensation call returned. */
  result?: unknown;
  error?: SerializedError;
}

/** How an attempt of a step ended. `interrupted`: the process stopped during it (the attempt was made again). */
export type AttemptOutcome = 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'interrupted';

/** One attempt of a step. */
export interface AttemptRecord {
  attempt: number;
  startedAt: string;
  /** Null while it runs. */
  completedAt: string | null;
  durationMs: number | null;
  /** Unset while it runs. */
  outcome?: AttemptOutcome;
  error?: SerializedError;
  /** The backoff before the next attempt, ms (a failed attempt that was retried). */
  retryDelayMs?: number;
}

/** Attempts a step record keeps (the latest); `attempts` still counts them all. */
export const MAX_ATTEMPT_HISTORY = 20;

/** State of one step of an execution. */
export interface StepRecord {
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  result?: unknown;
  error?: SerializedError;
  /** When the next attempt is due while the step waits in backoff (ISO time). */
  nextAttemptAt?: string;
  /** Order of completion within the execution (1, 2, ...), which the saga reverses. */
  completedSeq?: number;
  /**
   * Each attempt, kept from a step's first retry on (a step tried once is
   * told by its own times; the document shows both alike). The latest
   * {@link MAX_ATTEMPT_HISTORY}.
   */
  attemptHistory?: AttemptRecord[];
  compensation?: CompensationRecord;
}

/** An execution as stored. */
export interface ExecutionRecord {
  id: string;
  workflow: { name: string; version: string };
  status: ExecutionStatus;
  /** Instance id of the replica running it; null once finished. */
  owner: string | null;
  input: unknown;
  output: unknown;
  error?: SerializedError;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  /** When the whole-workflow timeout fires (ISO time), set at start. */
  deadlineAt: string | null;
  idempotencyKey?: string;
  /** Fingerprint of the request behind `idempotencyKey`, to tell a repeat from a clash. */
  requestHash?: string;
  cancelReason?: string;
  /** Only the steps that left `pending`; the document fills in the rest. */
  steps: Record<string, StepRecord>;
}

/** Fields of an execution that change after creation. */
export type ExecutionPatch = Partial<
  Pick<
    ExecutionRecord,
    | 'status'
    | 'owner'
    | 'output'
    | 'error'
    | 'startedAt'
    | 'completedAt'
    | 'durationMs'
    | 'deadlineAt'
    | 'cancelReason'
  >
>;

/** Filter and page of {@link ExecutionStore.listExecutions}, newest first. */
export interface ExecutionQuery {
  status?: ExecutionStatus;
  workflow?: string;
  limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

/** A page of executions. */
export interface ExecutionPage {
  items: ExecutionRecord[];
  nextCursor?: string;
}

/** Result of {@link ExecutionStore.createExecution}. */
export type CreateResult = { created: true } | { created: false; existing: ExecutionRecord };

/** Durable state of workflows and executions. */
export interface ExecutionStore {
  /**
   * True when several processes may share the store (PostgreSQL): a
   * restarted process then resumes only the executions it owned.
   */
  readonly shared?: boolean;
  /**
   * True when writes are applied in the order they are issued, whether or
   * not the earlier ones have committed yet (SQLite: one connection, one
   * queue). An execution then issues its next write without waiting for the
   * last one's commit, so writes that follow each other can share a commit.
   * Otherwise (a connection pool) each waits for the one before it.
   */
  readonly ordered?: boolean;
  /** Adds or re-activates a version, which becomes the current one of its name. */
  saveWorkflow(record: WorkflowRecord): Promise<void>;
  /** Unregisters every version of a name (kept for executions that reference them). */
  deleteWorkflow(name: string): Promise<boolean>;
  /** The current version of each registered name. */
  listWorkflows(): Promise<WorkflowRecord[]>;
  /** Any version ever registered, also of a deleted name. */
  getWorkflowVersion(name: string, version: string): Promise<WorkflowRecord | undefined>;
  /** Inserts an execution; with an idempotency key already used, returns the execution that holds it. */
  createExecution(record: ExecutionRecord): Promise<CreateResult>;
  /** Executions a process left unfinished (queued, running, compensating), oldest first: what a restart resumes. */
  listUnfinished(): Promise<ExecutionRecord[]>;
  /**
   * Shared stores only: takes over up to `limit` unfinished executions whose
   * lease ran out (and, with `own`, those already owned by `owner`, as after
   * a restart under the same INSTANCE_ID), oldest first, leasing them to
   * `owner` for `leaseMs`. Two replicas never claim the same one.
   */
  claimExecutions?(claim: LeaseClaim): Promise<ExecutionRecord[]>;
  /**
   * Shared stores only: extends the leases `owner` still holds on `ids`;
   * says which it lost, and the cancel reasons another replica stored on
   * those it kept (a cancel notification can be missed).
   */
  renewLeases?(owner: string, ids: string[], leaseMs: number): Promise<LeaseRenewal>;
  /** Shared stores only: ends `owner`'s leases on `ids` now, so another replica takes them over at once. */
  releaseLeases?(owner: string, ids: string[]): Promise<void>;
  /** The execution created with this idempotency key, if any. */
  findByIdempotencyKey(key: string): Promise<ExecutionRecord | undefined>;
  /**
   * With `fence`, a shared store writes only while `fence` still owns the
   * execution, and rejects with ORCH_LEASE_LOST otherwise, so a replica that
   * stalled past its lease cannot write over the new owner's work. A store
   * one process owns ignores it.
   */
  updateExecution(id: string, patch: ExecutionPatch, fence?: string): Promise<void>;
  /** `fence` as for {@link updateExecution}. */
  saveStep(executionId: string, step: string, record: StepRecord, fence?: string): Promise<void>;
  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  listExecutions(query: ExecutionQuery): Promise<ExecutionPage>;
  close(): Promise<void>;
}
