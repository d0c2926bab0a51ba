/**
 * SQLite schema migrations, applied in order; `PRAGMA user_version` records
 * how many ran. Append, never edit a released entry.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE workflows (
     name TEXT NOT NULL,
     version TEXT NOT NULL,
     definition TEXT NOT NULL,
     registered_at TEXT NOT NULL,
     seq INTEGER NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (name, version)
   );
   CREATE TABLE executions (
     id TEXT PRIMARY KEY,
     workflow_name TEXT NOT NULL,
     workflow_version TEXT NOT NULL,
     status TEXT NOT NULL,
     owner TEXT,
     input TEXT,
     output TEXT,
     error TEXT,
     created_at TEXT NOT NULL,
     started_at TEXT,
     completed_at TEXT,
     duration_ms INTEGER,
     deadline_at TEXT,
     idempotency_key TEXT UNIQUE,
     request_hash TEXT,
     cancel_reason TEXT
   );
   CREATE INDEX executions_by_status ON executions (status, id);
   CREATE INDEX executions_by_workflow ON executions (workflow_name, id);
   CREATE TABLE steps (
     execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     state TEXT NOT NULL,
     PRIMARY KEY (execution_id, name)
   ) WITHOUT ROWID;`,
];
