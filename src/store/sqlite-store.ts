/**
 * The execution store on SQLite (better-sqlite3), the embedded default.
 * WAL journal with `synchronous = NORMAL`: a commit survives a crash of this
 * process (kill -9); only a power loss can take the last transactions.
 * better-sqlite3 is synchronous, which keeps each statement atomic without
 * locks; the async port lets the PostgreSQL adapter share one contract.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type CreateResult,
  canonicalJson,
  type ExecutionPage,
  type ExecutionPatch,
  type ExecutionQuery,
  type ExecutionRecord,
  type ExecutionStore,
  type StepRecord,
  type WorkflowRecord,
} from '../engine/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  type ExecutionRow,
  encodeJson,
  PATCH_COLUMNS,
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
}

/** SQLite adapter of the execution store port. */
export class SqliteExecutionStore implements ExecutionStore {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<SqliteExecutionStore['prepare']>;
  private readonly patchStatements = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.statements = this.prepare();
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
    const saved = this.statements.saveWorkflow.run({
      name: record.name,
      version: record.version,
      definition: canonicalJson(record.definition),
      registered_at: record.registeredAt,
    });
    if (saved.changes === 0) throw workflowConflict(record);
  }

  async deleteWorkflow(name: string): Promise<boolean> {
    return this.statements.deleteWorkflow.run(name).changes > 0;
  }

  async listWorkflows(): Promise<WorkflowRecord[]> {
    return (this.statements.listWorkflows.all() as WorkflowRow[]).map(toWorkflowRecord);
  }

  async getWorkflowVersion(name: string, version: string): Promise<WorkflowRecord | undefined> {
    const row = this.statements.getWorkflowVersion.get(name, version) as WorkflowRow | undefined;
    return row && toWorkflowRecord(row);
  }

  async createExecution(record: ExecutionRecord): Promise<CreateResult> {
    const create = this.db.transaction((): CreateResult => {
      const inserted = this.statements.insertExecution.run(toRow(record)).changes > 0;
      if (inserted) {
        for (const [name, step] of Object.entries(record.steps)) {
          this.statements.saveStep.run(record.id, name, JSON.stringify(step));
        }
        return { created: true };
      }
      return {
        created: false,
        existing: this.load(this.statements.getByKey.get(record.idempotencyKey) as ExecutionRow),
      };
    });
    return create();
  }

  async listUnfinished(): Promise<ExecutionRecord[]> {
    return (this.statements.unfinished.all() as ExecutionRow[]).map((row) => this.load(row));
  }

  async findByIdempotencyKey(key: string): Promise<ExecutionRecord | undefined> {
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
    statement.run(params);
  }

  async saveStep(executionId: string, step: string, record: StepRecord): Promise<void> {
    this.statements.saveStep.run(executionId, step, JSON.stringify(record));
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    const row = this.statements.getExecution.get(id) as ExecutionRow | undefined;
    return row && this.load(row);
  }

  async listExecutions(query: ExecutionQuery): Promise<ExecutionPage> {
    const rows = this.statements.list.all({
      status: query.status ?? null,
      workflow: query.workflow ?? null,
      before: query.cursor ? decodeCursor(query.cursor) : null,
      limit: query.limit + 1,
    }) as ExecutionRow[];
    const page = rows.slice(0, query.limit);
    const steps = new Map<string, Record<string, StepRecord>>();
    const stepRows = this.statements.stepsOfMany.all(JSON.stringify(page.map((r) => r.id))) as {
      execution_id: string;
      name: string;
      state: string;
    }[];
    for (const row of stepRows) {
      let map = steps.get(row.execution_id);
      if (!map) {
        map = {};
        steps.set(row.execution_id, map);
      }
      map[row.name] = JSON.parse(row.state) as StepRecord;
    }
    const items = page.map((row) => toRecord(row, steps.get(row.id) ?? {}));
    const last = page[page.length - 1];
    return rows.length > query.limit && last ? { items, nextCursor: encodeCursor(last.id) } : { items };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private load(row: ExecutionRow): ExecutionRecord {
    const steps: Record<string, StepRecord> = {};
    for (const s of this.statements.stepsOf.all(row.id) as { name: string; state: string }[]) {
      steps[s.name] = JSON.parse(s.state) as StepRecord;
    }
    return toRecord(row, steps);
  }
}
