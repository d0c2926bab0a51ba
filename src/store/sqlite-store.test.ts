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
