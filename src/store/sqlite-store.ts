/**
 * The execution store on SQLite (better-sqlite3), the embedded default.
 * WAL journal with `synchronous = NORMAL`: a commit survives a crash of this
 * process (kill -9); only a power loss can take the last transactions.
 * better-sqlite3 is synchronous, which keeps each statement atomic without
 * locks; the async port lets the PostgreSQL adapter share one contract.
 *
 * Writes are group-committed: writes issued together are applied in one
 * transaction, and each resolves only once that transaction is committed,
 * so "committed before acted on" holds as before. Under load this turns
 * many small commits (each its WAL frames, and a checkpoint every thousand
 * pages) into few (bench/README.md). A write that fails rejects alone; the
 * others commit. Reads apply the pending writes first, so a read sees every
 * write issued before it. See {@link SqliteStoreOptions.groupCommit}.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
// The module's own function, which fake timers leave alone: a flush is I/O, not a timer to fake.
import { setImmediate } from 'node:timers';
import Database from 'better-sqlite3';
import {
  type CreateResult,
  canonicalJson,
  ErrorCode,
  type ExecutionPage,
  type ExecutionPatch,
  type ExecutionQuery,
  type ExecutionRecord,
  type ExecutionStore,
  OrchestratorError,
  type StepRecord,
  type WorkflowRecord,
} from '../engine/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  type ExecutionRow,
  encodeJson,
  PATCH_COLUMNS,
  type StepRow,
  stepsByExecution,
  toRecord,
  toRow,
  toWorkflowRecord,
  type WorkflowRow,
} from './rows.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { workflowConflict } from './store-errors.js';

/** Options of {@link SqliteExecutionStore}. */
export interface SqliteStoreOptions {
  /** File path, or `:memory:`. Parent directories are created. */
  path: string;
  /**
   * Which writes share a commit. `tick` (default): those issued by one
   * callback and the promise jobs it queues, committed before any other
   * callback runs. `turn`: the same while the event loop is quiet; once a
   * turn of the loop has committed four times, the writes of the other
   * callbacks handled in that turn (under load: many requests and
   * responses) wait for its end and share one commit. This is what the server uses (`openStore`): it cuts commits
   * under load several times over, without delaying a quiet one.
   */
  groupCommit?: 'tick' | 'turn';
  /** How long opening waits for a file another process holds before it gives up, ms (5000). */
  busyTimeoutMs?: number;
}

/**
 * Commits a turn of the event loop makes at once in `turn` mode before it
 * groups the rest at its end. Four leave a quiet server's chain of writes
 * (execution created, running, first steps running) to commit at once,
 * before the next request is read.
 */
const IMMEDIATE_COMMITS_PER_TURN = 4;

/** A write waiting for the next group commit. */
interface PendingWrite {
  apply(): unknown;
  /**
   * One statement: SQLite undoes a statement that fails on its own, so it
   * needs no savepoint (three statements instead of one per write).
   */
  single: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** What `apply` did inside the transaction, reported once it commits. */
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/** SQLite adapter of the execution store port. */
export class SqliteExecutionStore implements ExecutionStore {
  /** Writes go to one queue, applied in the order they were issued. */
  readonly ordered = true;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<SqliteExecutionStore['prepare']>;
  private readonly patchStatements = new Map<string, Database.Statement>();
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private readonly commitPending: (writes: PendingWrite[]) => void;
  private readonly groupByTurn: boolean;
  private readonly flushNow = () => this.flush();
  /** `turn` mode: commits made at once in the current turn of the event loop. */
  private commitsThisTurn = 0;
  private turnResetScheduled = false;
  private readonly resetTurn = () => {
    this.commitsThisTurn = 0;
    this.turnResetScheduled = false;
  };

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    try {
      this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      // One process per file, holding its locks from the first write until it closes: a second
      // orchestrator on the same file would run the same executions twice, so it is refused at
      // start; and a commit takes no file locks (no -shm file either), about 15% of the CPU of
      // a step write (bench/README.md, decision 0011).
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.migrate();
    } catch (error) {
      this.db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new OrchestratorError(
          ErrorCode.StoreError,
          `the SQLite database ${options.path} is in use by another process (another orchestrator?); ` +
            'one process serves a SQLite file: stop the other, or use PostgreSQL for several replicas',
          { cause: error },
        );
      }
      throw error;
    }
    this.statements = this.prepare();
    this.groupByTurn = options.groupCommit === 'turn';
    // A write of several statements in a savepoint of its own (a transaction function called
    // inside another): one that fails half-way (an execution inserted, then a step refused) rolls
    // back whole, as it did in a transaction of its own, and the others still commit.
    const applyInSavepoint = this.db.transaction((write: PendingWrite) => write.apply());
    this.commitPending = this.db.transaction((writes: PendingWrite[]) => {
      for (const write of writes) {
        try {
          write.outcome = { ok: true, value: write.single ? write.apply() : applyInSavepoint(write) };
        } catch (error) {
          // Some errors (disk full, I/O) can make SQLite roll the whole transaction back: then the
          // writes before are gone too, and the ones after must not run outside it (each would
          // commit on its own). The whole group fails, as a failed commit does.
          if (!this.db.inTransaction) throw error;
          write.outcome = { ok: false, error };
        }
      }
    });
  }

  /**
   * Queues a write for the next group commit. Its callback runs inside the
   * transaction; the promise settles after the commit (or the rollback).
   */
  private write<T>(apply: () => T, single = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, single, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Once the callback that wrote has finished; or, in a busy turn, at the end of the turn.
        if (this.groupByTurn && this.commitsThisTurn >= IMMEDIATE_COMMITS_PER_TURN)
          setImmediate(this.flushNow);
        else process.nextTick(this.flushNow);
      }
    });
  }

  /** Commits the pending writes in one transaction, then settles their promises. */
  private flush(): void {
    this.flushScheduled = false;
    const writes = this.pending;
    if (writes.length === 0) return;
    this.pending = [];
    if (this.groupByTurn) {
      this.commitsThisTurn += 1;
      if (!this.turnResetScheduled) {
        this.turnResetScheduled = true;
        setImmediate(this.resetTurn);
      }
    }
    try {
      if (!this.db.open) throw new Error('the SQLite store is closed');
      this.commitPending(writes);
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored.
      for (const write of writes) write.reject(error);
      return;
    }
    for (const { outcome, resolve, reject } of writes) {
      if (outcome?.ok) resolve(outcome.value);
      else reject(outcome?.error);
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    this.db.transaction(() => {
      for (let version = current; version < SQLITE_MIGRATIONS.length; version++) {
        this.db.exec(SQLITE_MIGRATIONS[version]!);
      }
      this.db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
    })();
  }

  private prepare() {
    const db = this.db;
    return {
      saveWorkflow: db.prepare(
        `INSERT INTO workflows (name, version, definition, registered_at, seq, deleted)
         VALUES (@name, @version, @definition, @registered_at, (SELECT COALESCE(MAX(seq), 0) + 1 FROM workflows), 0)
         ON CONFLICT (name, version) DO UPDATE SET
           registered_at = excluded.registered_at, seq = excluded.seq, deleted = 0
         WHERE workflows.definition = excluded.definition`,
      ),
      deleteWorkflow: db.prepare('UPDATE workflows SET deleted = 1 WHERE name = ? AND deleted = 0'),
      listWorkflows: db.prepare(
        `SELECT name, version, definition, registered_at FROM workflows w
         WHERE deleted = 0 AND seq = (SELECT MAX(seq) FROM workflows v WHERE v.name = w.name AND v.deleted = 0)
         ORDER BY name`,
      ),
      getWorkflowVersion: db.prepare(
        'SELECT name, version, definition, registered_at FROM workflows WHERE name = ? AND version = ?',
      ),
      insertExecution: db.prepare(
        `INSERT INTO executions (id, workflow_name, workflow_version, status, owner, input, output, error, created_at,
           started_at, completed_at, duration_ms, deadline_at, idempotency_key, request_hash, cancel_reason)
         VALUES (@id, @workflow_name, @workflow_version, @status, @owner, @input, @output, @error, @created_at,
           @started_at, @completed_at, @duration_ms, @deadline_at, @idempotency_key, @request_hash, @cancel_reason)
         ON CONFLICT (idempotency_key) DO NOTHING`,
      ),
      getExecution: db.prepare('SELECT * FROM executions WHERE id = ?'),
      getByKey: db.prepare('SELECT * FROM executions WHERE idempotency_key = ?'),
      unfinished: db.prepare(
        "SELECT * FROM executions WHERE status IN ('queued', 'running', 'compensating') ORDER BY id",
      ),
      saveStep: db.prepare(
        `INSERT INTO steps (execution_id, name, state) VALUES (?, ?, ?)
         ON CONFLICT (execution_id, name) DO UPDATE SET state = excluded.state`,
      ),
      stepsOf: db.prepare('SELECT name, state FROM steps WHERE execution_id = ?'),
      stepsOfMany: db.prepare(
        'SELECT execution_id, name, state FROM steps WHERE execution_id IN (SELECT value FROM json_each(?))',
      ),
      list: db.prepare(
        `SELECT * FROM executions
         WHERE (@status IS NULL OR status = @status)
           AND (@workflow IS NULL OR workflow_name = @workflow)
           AND (@before IS NULL OR id < @before)
         ORDER BY id DESC LIMIT @limit`,
      ),
    };
  }

  async saveWorkflow(record: WorkflowRecord): Promise<void> {
    const params = {
      name: record.name,
      version: record.version,
      definition: canonicalJson(record.definition),
      registered_at: record.registeredAt,
    };
    await this.write(() => {
      if (this.statements.saveWorkflow.run(params).changes === 0) throw workflowConflict(record);
    }, true);
  }

  async deleteWorkflow(name: string): Promise<boolean> {
    return this.write(() => this.statements.deleteWorkflow.run(name).changes > 0, true);
  }

  async listWorkflows(): Promise<WorkflowRecord[]> {
    this.flush();
    return (this.statements.listWorkflows.all() as WorkflowRow[]).map(toWorkflowRecord);
  }

  async getWorkflowVersion(name: string, version: string): Promise<WorkflowRecord | undefined> {
    this.flush();
    const row = this.statements.getWorkflowVersion.get(name, version) as WorkflowRow | undefined;
    return row && toWorkflowRecord(row);
  }

  async createExecution(record: ExecutionRecord): Promise<CreateResult> {
    // Encoded now: the record may change before the commit.
    const row = toRow(record);
    const steps = Object.entries(record.steps).map(([name, step]) => [name, JSON.stringify(step)] as const);
    return this.write((): CreateResult => {
      const inserted = this.statements.insertExecution.run(row).changes > 0;
      if (inserted) {
        for (const [name, state] of steps) this.statements.saveStep.run(row.id, name, state);
        return { created: true };
      }
      return {
        created: false,
        existing: this.load(this.statements.getByKey.get(row.idempotency_key) as ExecutionRow),
      };
    }, steps.length === 0);
  }

  async listUnfinished(): Promise<ExecutionRecord[]> {
    this.flush();
    return (this.statements.unfinished.all() as ExecutionRow[]).map((row) => this.load(row));
  }

  async findByIdempotencyKey(key: string): Promise<ExecutionRecord | undefined> {
    this.flush();
    const row = this.statements.getByKey.get(key) as ExecutionRow | undefined;
    return row && this.load(row);
  }

  async updateExecution(id: string, patch: ExecutionPatch): Promise<void> {
    const keys = (Object.keys(patch) as (keyof ExecutionPatch)[]).filter((k) => k in PATCH_COLUMNS).sort();
    if (keys.length === 0) return;
    const signature = keys.join(',');
    let statement = this.patchStatements.get(signature);
    if (!statement) {
      const sets = keys.map((k) => `${PATCH_COLUMNS[k].column} = @${k}`).join(', ');
      statement = this.db.prepare(`UPDATE executions SET ${sets} WHERE id = @id`);
      this.patchStatements.set(signature, statement);
    }
    const params: Record<string, unknown> = { id };
    for (const k of keys) {
      const value = patch[k];
      params[k] = PATCH_COLUMNS[k].json ? encodeJson(value) : (value ?? null);
    }
    const prepared = statement;
    await this.write(() => prepared.run(params), true);
  }

  async saveStep(executionId: string, step: string, record: StepRecord): Promise<void> {
    const state = JSON.stringify(record);
    await this.write(() => this.statements.saveStep.run(executionId, step, state), true);
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    this.flush();
    const row = this.statements.getExecution.get(id) as ExecutionRow | undefined;
    return row && this.load(row);
  }

  async listExecutions(query: ExecutionQuery): Promise<ExecutionPage> {
    this.flush();
    const rows = this.statements.list.all({
      status: query.status ?? null,
      workflow: query.workflow ?? null,
      before: query.cursor ? decodeCursor(query.cursor) : null,
      limit: query.limit + 1,
    }) as ExecutionRow[];
    const page = rows.slice(0, query.limit);
    const steps = stepsByExecution(
      this.statements.stepsOfMany.all(JSON.stringify(page.map((r) => r.id))) as StepRow[],
    );
    const items = page.map((row) => toRecord(row, steps.get(row.id) ?? {}));
    const last = page[page.length - 1];
    return rows.length > query.limit && last ? { items, nextCursor: encodeCursor(last.id) } : { items };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }

  private load(row: ExecutionRow): ExecutionRecord {
    const steps: Record<string, StepRecord> = {};
    for (const s of this.statements.stepsOf.all(row.id) as { name: string; state: string }[]) {
      steps[s.name] = JSON.parse(s.state) as StepRecord;
    }
    return toRecord(row, steps);
  }
}
