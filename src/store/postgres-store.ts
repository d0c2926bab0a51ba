/**
 * The execution store on PostgreSQL (`DATABASE_URL=postgres://...`), for
 * several replicas sharing one database. The same contract as SQLite, run
 * by the same test suite. A pooled `pg` client; migrations run once, at
 * first use, under an advisory lock. Tables are prefixed `orchestrator_` so
 * the database can be shared with other applications.
 */
import pg from 'pg';
import {
  type CreateResult,
  canonicalJson,
  ErrorCode,
  type ExecutionPage,
  type ExecutionPatch,
  type ExecutionQuery,
  type ExecutionRecord,
  type ExecutionStore,
  type LeaseClaim,
  type LeaseRenewal,
  OrchestratorError,
  type StepRecord,
  type WorkflowRecord,
} from '../engine/index.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import {
  type ExecutionRow,
  PATCH_COLUMNS,
  type StepRow,
  stepsByExecution,
  toRecord,
  toRow,
  toWorkflowRecord,
  type WorkflowRow,
} from './rows.js';
import { workflowConflict } from './store-errors.js';

/** Options of {@link PostgresExecutionStore}. */
export interface PostgresStoreOptions {
  connectionString: string;
  /** Pool size (10). */
  max?: number;
  /** Lease a new execution gets for its creator, ms (30000); the engine renews it. */
  leaseMs?: number;
}

/** An arbitrary, fixed key for the migration lock. */
const MIGRATION_LOCK = 424_242_001;

/** PostgreSQL adapter of the execution store port. */
export class PostgresExecutionStore implements ExecutionStore {
  /** Replicas share it. */
  readonly shared = true;
  private readonly pool: pg.Pool;
  private readonly ready: Promise<void>;
  private readonly leaseMs: number;

  constructor(options: PostgresStoreOptions) {
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
    this.leaseMs = options.leaseMs ?? 30_000;
    // An idle client that loses its connection must not crash the process.
    this.pool.on('error', () => undefined);
    this.ready = this.migrate();
    this.ready.catch(() => undefined);
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS orchestrator_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ version: number }>(
        'SELECT COALESCE(MAX(version), 0) AS version FROM orchestrator_migrations',
      );
      for (let version = rows[0]!.version; version < POSTGRES_MIGRATIONS.length; version++) {
        await client.query('BEGIN');
        await client.query(POSTGRES_MIGRATIONS[version]!);
        await client.query('INSERT INTO orchestrator_migrations (version) VALUES ($1)', [version + 1]);
        await client.query('COMMIT');
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    await this.ready;
    return this.pool.query<R>(text, values);
  }

  async saveWorkflow(record: WorkflowRecord): Promise<void> {
    const saved = await this.query(
      `INSERT INTO orchestrator_workflows (name, version, definition, registered_at, seq, deleted)
       VALUES ($1, $2, $3, $4, nextval('orchestrator_workflow_seq'), false)
       ON CONFLICT (name, version) DO UPDATE SET
         registered_at = EXCLUDED.registered_at, seq = EXCLUDED.seq, deleted = false
       WHERE orchestrator_workflows.definition = EXCLUDED.definition`,
      [record.name, record.version, canonicalJson(record.definition), record.registeredAt],
    );
    if (saved.rowCount === 0) throw workflowConflict(record);
  }

  async deleteWorkflow(name: string): Promise<boolean> {
    const result = await this.query(
      'UPDATE orchestrator_workflows SET deleted = true WHERE name = $1 AND NOT deleted',
      [name],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async listWorkflows(): Promise<WorkflowRecord[]> {
    const { rows } = await this.query<WorkflowRow>(
      `SELECT DISTINCT ON (name) name, version, definition, registered_at FROM orchestrator_workflows
       WHERE NOT deleted ORDER BY name, seq DESC`,
    );
    return rows.map(toWorkflowRecord);
  }

  async getWorkflowVersion(name: string, version: string): Promise<WorkflowRecord | undefined> {
    const { rows } = await this.query<WorkflowRow>(
      'SELECT name, version, definition, registered_at FROM orchestrator_workflows WHERE name = $1 AND version = $2',
      [name, version],
    );
    return rows[0] && toWorkflowRecord(rows[0]);
  }

  async createExecution(record: ExecutionRecord): Promise<CreateResult> {
    await this.ready;
    const row = toRow(record);
    const columns = Object.keys(row);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Its creator holds a lease from the start, so no other replica claims it while it is queued.
      const inserted = await client.query(
        `INSERT INTO orchestrator_executions (${columns.join(', ')}, lease_until)
         VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}, now() + make_interval(secs => $${columns.length + 1}::double precision / 1000))
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [...Object.values(row), this.leaseMs],
      );
      if ((inserted.rowCount ?? 0) > 0) {
        for (const [name, step] of Object.entries(record.steps)) {
          await client.query(
            'INSERT INTO orchestrator_steps (execution_id, name, state) VALUES ($1, $2, $3)',
            [record.id, name, JSON.stringify(step)],
          );
        }
        await client.query('COMMIT');
        return { created: true };
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return { created: false, existing: (await this.findByIdempotencyKey(record.idempotencyKey!))! };
  }

  async findByIdempotencyKey(key: string): Promise<ExecutionRecord | undefined> {
    const { rows } = await this.query<ExecutionRow>(
      'SELECT * FROM orchestrator_executions WHERE idempotency_key = $1',
      [key],
    );
    return rows[0] && (await this.withSteps(rows))[0];
  }

  async listUnfinished(): Promise<ExecutionRecord[]> {
    const { rows } = await this.query<ExecutionRow>(
      "SELECT * FROM orchestrator_executions WHERE status IN ('queued', 'running', 'compensating') ORDER BY id",
    );
    return this.withSteps(rows);
  }

  async claimExecutions({
    owner,
    limit,
    leaseMs,
    own,
    queued = false,
  }: LeaseClaim): Promise<ExecutionRecord[]> {
    if (limit <= 0) return [];
    // MATERIALIZED: an `IN (subquery LIMIT n)` may be re-run by the planner and claim more than n rows.
    const { rows } = await this.query<ExecutionRow>(
      `WITH claimable AS MATERIALIZED (
         SELECT id FROM orchestrator_executions
         WHERE status IN ('queued', 'running', 'compensating')
           AND (($4 AND owner = $1) OR lease_until IS NULL OR lease_until < now()
                OR ($5 AND status = 'queued' AND owner IS DISTINCT FROM $1))
         -- Orphans (lease run out) before queued work taken from live replicas.
         ORDER BY (lease_until IS NULL OR lease_until < now()) DESC, id LIMIT $2
         FOR UPDATE SKIP LOCKED)
       UPDATE orchestrator_executions e
       SET owner = $1, lease_until = now() + make_interval(secs => $3::double precision / 1000)
       FROM claimable WHERE e.id = claimable.id
       RETURNING e.*`,
      [owner, limit, leaseMs, own, queued],
    );
    return this.withSteps(rows.sort((x, y) => (x.id < y.id ? -1 : 1)));
  }

  async renewLeases(owner: string, ids: string[], leaseMs: number): Promise<LeaseRenewal> {
    if (ids.length === 0) return { lost: [], cancelled: [] };
    const { rows } = await this.query<{ id: string; cancel_reason: string | null }>(
      `UPDATE orchestrator_executions SET lease_until = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = ANY($2::text[]) AND owner = $1 RETURNING id, cancel_reason`,
      [owner, ids, leaseMs],
    );
    const kept = new Set(rows.map((r) => r.id));
    return {
      lost: ids.filter((id) => !kept.has(id)),
      cancelled: rows.flatMap((r) =>
        r.cancel_reason === null ? [] : [{ id: r.id, reason: r.cancel_reason }],
      ),
    };
  }

  async releaseLeases(owner: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.query(
      `UPDATE orchestrator_executions SET lease_until = now() - interval '1 millisecond'
       WHERE id = ANY($2::text[]) AND owner = $1`,
      [owner, ids],
    );
  }

  async updateExecution(id: string, patch: ExecutionPatch, fence?: string): Promise<void> {
    const keys = (Object.keys(patch) as (keyof ExecutionPatch)[]).filter((k) => k in PATCH_COLUMNS);
    if (keys.length === 0) return;
    const sets = keys.map((k, i) => `${PATCH_COLUMNS[k].column} = $${i + 2}`).join(', ');
    const values = keys.map((k) => {
      const value = patch[k];
      return PATCH_COLUMNS[k].json ? (value === undefined ? null : JSON.stringify(value)) : (value ?? null);
    });
    if (fence === undefined) {
      await this.query(`UPDATE orchestrator_executions SET ${sets} WHERE id = $1`, [id, ...values]);
      return;
    }
    const result = await this.query(
      `UPDATE orchestrator_executions SET ${sets} WHERE id = $1 AND owner = $${keys.length + 2}`,
      [id, ...values, fence],
    );
    if ((result.rowCount ?? 0) === 0) throw leaseLost(id, fence);
  }

  async saveStep(executionId: string, step: string, record: StepRecord, fence?: string): Promise<void> {
    // FOR SHARE waits for a claim in progress on the row, then sees its new owner.
    const result = await this.query(
      `INSERT INTO orchestrator_steps (execution_id, name, state)
       SELECT $1, $2, $3 WHERE $4::text IS NULL OR EXISTS (
         SELECT 1 FROM orchestrator_executions WHERE id = $1 AND owner = $4 FOR SHARE)
       ON CONFLICT (execution_id, name) DO UPDATE SET state = EXCLUDED.state`,
      [executionId, step, JSON.stringify(record), fence ?? null],
    );
    if (fence !== undefined && (result.rowCount ?? 0) === 0) throw leaseLost(executionId, fence);
  }

  async getExecution(id: string): Promise<ExecutionRecord | undefined> {
    const { rows } = await this.query<ExecutionRow>('SELECT * FROM orchestrator_executions WHERE id = $1', [
      id,
    ]);
    return rows[0] && (await this.withSteps(rows))[0];
  }

  async listExecutions(query: ExecutionQuery): Promise<ExecutionPage> {
    const { rows } = await this.query<ExecutionRow>(
      `SELECT * FROM orchestrator_executions
       WHERE ($1::text IS NULL OR status = $1)
         AND ($2::text IS NULL OR workflow_name = $2)
         AND ($3::text IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [
        query.status ?? null,
        query.workflow ?? null,
        query.cursor ? decodeCursor(query.cursor) : null,
        query.limit + 1,
      ],
    );
    const page = rows.slice(0, query.limit);
    const items = await this.withSteps(page);
    const last = page[page.length - 1];
    return rows.length > query.limit && last ? { items, nextCursor: encodeCursor(last.id) } : { items };
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  private async withSteps(rows: ExecutionRow[]): Promise<ExecutionRecord[]> {
    if (rows.length === 0) return [];
    const { rows: stepRows } = await this.query<StepRow>(
      'SELECT execution_id, name, state FROM orchestrator_steps WHERE execution_id = ANY($1::text[])',
      [rows.map((r) => r.id)],
    );
    const steps = stepsByExecution(stepRows);
    return rows.map((row) =>
      toRecord(
        { ...row, duration_ms: row.duration_ms === null ? null : Number(row.duration_ms) },
        steps.get(row.id) ?? {},
      ),
    );
  }
}

function leaseLost(id: string, owner: string): OrchestratorError {
  return new OrchestratorError(
    ErrorCode.LeaseLost,
    `execution '${id}' is no longer held by '${owner}': another replica took it over`,
  );
}
