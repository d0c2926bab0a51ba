import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeStoreContract, newExecution } from '../../test/support/store-contract.js';
import { openStore } from './open-store.js';
import { SqliteExecutionStore } from './sqlite-store.js';

describeStoreContract('SQLite (memory)', async () => ({
  store: new SqliteExecutionStore({ path: ':memory:' }),
}));

describeStoreContract('SQLite (file, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-sqlite-'));
  return {
    store: new SqliteExecutionStore({ path: join(dir, 'nested', 'o.db') }),
    cleanup: async () => rmSync(dir, { recursive: true }),
  };
});

describeStoreContract('SQLite (file, WAL, one commit per event-loop turn)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-sqlite-'));
  return {
    store: new SqliteExecutionStore({ path: join(dir, 'o.db'), groupCommit: 'turn' }),
    cleanup: async () => rmSync(dir, { recursive: true }),
  };
});

describe('SQLite group commit', () => {
  it('commits writes issued together in one transaction; a write that fails rejects alone', async () => {
    const store = new SqliteExecutionStore({ path: ':memory:', groupCommit: 'turn' });
    try {
      const definition = { name: 'wf', version: '1', steps: [{ name: 's', mcp: 'm', action: 't' }] };
      await store.saveWorkflow({
        name: 'wf',
        version: '1',
        definition,
        registeredAt: '2026-01-01T00:00:00.000Z',
      });
      const first = newExecution({ idempotencyKey: 'same', requestHash: 'h' });
      const second = newExecution({ idempotencyKey: 'same', requestHash: 'h' });
      const step = {
        status: 'running',
        attempts: 1,
        startedAt: null,
        completedAt: null,
        durationMs: null,
      } as const;
      const outcomes = await Promise.allSettled([
        store.createExecution(first),
        store.saveStep(first.id, 'a', step),
        // Same name and version, other content: refused, while the writes around it commit.
        store.saveWorkflow({
          name: 'wf',
          version: '1',
          definition: { ...definition, description: 'other' },
          registeredAt: '2026-01-02T00:00:00.000Z',
        }),
        store.createExecution(second),
        store.updateExecution(first.id, { status: 'running' }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect(outcomes[3]).toMatchObject({ value: { created: false, existing: { id: first.id } } });
      const stored = await store.getExecution(first.id);
      expect(stored).toMatchObject({ status: 'running', steps: { a: { status: 'running', attempts: 1 } } });
      expect(await store.getExecution(second.id)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('rolls a write that fails half-way back whole, while the writes beside it commit', async () => {
    const store = new SqliteExecutionStore({ path: ':memory:', groupCommit: 'turn' });
    // White-box: no public write fails after a statement that succeeded, yet one must not leave half.
    const inner = store as unknown as {
      write<T>(apply: () => T): Promise<T>;
      statements: { deleteWorkflow: { run(name: string): unknown } };
    };
    try {
      const record = (name: string) => ({
        name,
        version: '1',
        definition: { name, version: '1', steps: [{ name: 's', mcp: 'm', action: 't' }] },
        registeredAt: '2026-01-01T00:00:00.000Z',
      });
      await store.saveWorkflow(record('kept'));
      const outcomes = await Promise.allSettled([
        inner.write(() => {
          inner.statements.deleteWorkflow.run('kept');
          throw new Error('failed after its first statement');
        }),
        store.saveWorkflow(record('beside')),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
      expect((await store.listWorkflows()).map((w) => w.name).sort()).toEqual(['beside', 'kept']);
    } finally {
      await store.close();
    }
  });

  it('fails the whole group, and runs nothing after, when SQLite rolls the transaction back under a write', async () => {
    const store = new SqliteExecutionStore({ path: ':memory:', groupCommit: 'turn' });
    try {
      const internals = store as unknown as {
        db: { exec(sql: string): void };
        write(apply: () => unknown, single?: boolean): Promise<unknown>;
      };
      const before = newExecution();
      const after = newExecution();
      const writes = [
        store.createExecution(before),
        // What SQLite does on some disk-full and I/O errors: the transaction is gone, then the error.
        internals.write(() => {
          internals.db.exec('ROLLBACK');
          throw new Error('database or disk is full');
        }, true),
        store.createExecution(after),
      ];
      const outcomes = await Promise.allSettled(writes);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe('database or disk is full');
      expect(await store.getExecution(before.id)).toBeUndefined();
      expect(await store.getExecution(after.id)).toBeUndefined();
      // The store goes on with the next group.
      await store.createExecution(after);
      expect((await store.getExecution(after.id))?.id).toBe(after.id);
    } finally {
      await store.close();
    }
  });

  it('lets a read see the writes issued before it, and commits what is pending on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-sqlite-'));
    try {
      const path = join(dir, 'o.db');
      const store = new SqliteExecutionStore({ path, groupCommit: 'turn' });
      const record = newExecution();
      const created = store.createExecution(record);
      // Not awaited: the read applies it first.
      expect((await store.getExecution(record.id))?.id).toBe(record.id);
      await created;
      const saved = store.saveStep(record.id, 'a', {
        status: 'completed',
        attempts: 1,
        startedAt: null,
        completedAt: null,
        durationMs: 1,
        result: 'r',
      });
      await store.close();
      await saved;
      const reopened = new SqliteExecutionStore({ path });
      expect((await reopened.getExecution(record.id))?.steps.a?.result).toBe('r');
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('SQLite store on disk', () => {
  it('keeps records across reopening, in WAL mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-sqlite-'));
    try {
      const path = join(dir, 'data', 'orchestrator.db');
      const first = new SqliteExecutionStore({ path });
      const record = newExecution({ idempotencyKey: 'k', requestHash: 'h' });
      await first.createExecution(record);
      await first.saveStep(record.id, 'a', {
        status: 'completed',
        attempts: 1,
        startedAt: null,
        completedAt: null,
        durationMs: 3,
        result: 'x',
      });
      await first.close();

      const second = new SqliteExecutionStore({ path });
      expect((await second.getExecution(record.id))?.steps.a?.result).toBe('x');
      expect((await second.findByIdempotencyKey('k'))?.id).toBe(record.id);
      await second.close();

      const Database = (await import('better-sqlite3')).default;
      const raw = new Database(path, { readonly: true });
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(1);
      raw.close();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses a second process on the same file, naming it, and keeps serving the first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-sqlite-'));
    try {
      const path = join(dir, 'orchestrator.db');
      const first = new SqliteExecutionStore({ path });
      const record = newExecution();
      await first.createExecution(record);
      // Another process: a child, since locks are per process (and the test must not wait 5 s).
      const { execFileSync } = await import('node:child_process');
      const script = `
        const Database = require('better-sqlite3');
        const db = new Database(${JSON.stringify(path)}, { timeout: 200 });
        try { db.prepare('SELECT count(*) AS n FROM executions').get(); console.log('read'); }
        catch (error) { console.log(error.code); }`;
      expect(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()).toBe('SQLITE_BUSY');
      const second = () => new SqliteExecutionStore({ path, busyTimeoutMs: 50 });
      // In this process too (a second server in one test run), with the message an operator needs.
      expect(second).toThrow(
        /orchestrator\.db is in use by another process .*PostgreSQL for several replicas/,
      );
      expect((await first.getExecution(record.id))?.id).toBe(record.id);
      await first.close();
      const reopened = second();
      expect((await reopened.getExecution(record.id))?.id).toBe(record.id);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('opens stores from DATABASE_URL and names what it cannot serve', async () => {
    const memory = openStore('sqlite::memory:');
    expect(await memory.listWorkflows()).toEqual([]);
    await memory.close();
    expect(() => openStore('mysql://db/x')).toThrow(
      "DATABASE_URL 'mysql:…' is not supported: expected sqlite:<path>, sqlite::memory: or postgres://...",
    );
    expect(() => openStore('sqlite:')).toThrow(/expected a path after sqlite:/);
  });
});
