/**
 * Opens the execution store named by `DATABASE_URL`:
 * `sqlite:<path>` (default `sqlite:./data/orchestrator.db`) or `sqlite::memory:`.
 * or PostgreSQL (`postgres://`, shared by replicas).
 */
import { ErrorCode, type ExecutionStore, OrchestratorError } from '../engine/index.js';
import { PostgresExecutionStore } from './postgres-store.js';
import { SqliteExecutionStore } from './sqlite-store.js';

/** Default `DATABASE_URL`. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/orchestrator.db';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Lease a new execution gets on a shared store, ms (30000). */
  leaseMs?: number;
}

/** Opens a store for a database URL; ORCH_BAD_REQUEST for a URL it cannot serve. */
export function openStore(
  databaseUrl: string = DEFAULT_DATABASE_URL,
  options: OpenStoreOptions = {},
): ExecutionStore {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    if (!path) throw badUrl(databaseUrl, 'a path after sqlite:');
    // Under load, the writes of a busy event-loop turn share one commit (see SqliteStoreOptions).
    return new SqliteExecutionStore({ path, groupCommit: 'turn' });
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl))
    return new PostgresExecutionStore({
      connectionString: databaseUrl,
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    });
  throw badUrl(databaseUrl, 'sqlite:<path>, sqlite::memory: or postgres://...');
}

function badUrl(url: string, expected: string): OrchestratorError {
  const scheme = url.split(':')[0] ?? '';
  return new OrchestratorError(
    ErrorCode.BadRequest,
    `DATABASE_URL '${scheme}:…' is not supported: expected ${expected}`,
  );
}
