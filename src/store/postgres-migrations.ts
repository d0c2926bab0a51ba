/**
 * PostgreSQL schema migrations, applied in order under an advisory lock so
 * that replicas starting together migrate once. Append, never edit a
 * released entry. Ids sort byte-wise (COLLATE "C"): the list cursor relies
 * on UUIDv7 order.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE SEQUENCE orchestrator_workflow_seq;
   CREATE TABLE orchestrator_workflows (
     name text NOT NULL,
     version text NOT NULL,
     definition text NOT NULL,
     registered_at text NOT NULL,
     seq bigint NOT NULL,
     deleted boolean NOT NULL DEFAULT false,
     PRIMARY KEY (name, version)
   );
   CREATE TABLE orchestrator_executions (
     id text COLLATE "C" PRIMARY KEY,
     workflow_name text NOT NULL,
     workflow_version text NOT NULL,
     status text NOT NULL,
     owner text,
     input text,
     output text,
     error text,
     created_at text NOT NULL,
     started_at text,
     completed_at text,
     duration_ms bigint,
     deadline_at text,
     idempotency_key text UNIQUE,
     request_hash text,
     cancel_reason text
   );
   CREATE INDEX orchestrator_executions_by_status ON orchestrator_executions (status, id);
   CREATE INDEX orchestrator_executions_by_workflow ON orchestrator_executions (workflow_name, id);
   CREATE TABLE orchestrator_steps (
     execution_id text COLLATE "C" NOT NULL REFERENCES orchestrator_executions (id) ON DELETE CASCADE,
     name text NOT NULL,
     state text NOT NULL,
     PRIMARY KEY (execution_id, name)
   );`,
  // Leases: a replica owns an execution until lease_until; another may claim it after.
  `ALTER TABLE orchestrator_executions ADD COLUMN lease_until timestamptz;
   CREATE INDEX orchestrator_executions_claimable ON orchestrator_executions (lease_until)
     WHERE status IN ('queued', 'running', 'compensating');`,
];
