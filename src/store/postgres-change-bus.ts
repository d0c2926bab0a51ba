/**
 * The change bus on PostgreSQL LISTEN/NOTIFY: one dedicated connection
 * listens on `orchestrator_changes` and reconnects (with backoff) when the
 * connection drops; publishing is a `pg_notify` on the pool.
 */
import pg from 'pg';
import type { Change, ChangeBus } from '../engine/index.js';

const CHANNEL = 'orchestrator_changes';

/** Options of {@link PostgresChangeBus}. */
export interface PostgresChangeBusOptions {
  connectionString: string;
  /** Told about a lost listening connection (it reconnects by itself). */
  onError?(error: Error): void;
}

/** LISTEN/NOTIFY between replicas. */
export class PostgresChangeBus implements ChangeBus {
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private readonly listeners = new Set<(change: Change) => void>();
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly options: PostgresChangeBusOptions) {
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 2 });
    this.pool.on('error', () => undefined);
  }

  async publish(change: Change): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(change)]);
  }

  async subscribe(listener: (change: Change) => void): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    if (!this.listener) await this.listen(0);
    return async () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) await this.close();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
    await this.pool.end().catch(() => undefined);
  }

  private async listen(attempt: number): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      let change: Change;
      try {
        change = JSON.parse(message.payload) as Change;
      } catch {
        return;
      }
      for (const l of this.listeners) l(change);
    });
    const reconnect = (error: Error) => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      this.options.onError?.(error);
      const delay = Math.min(10_000, 200 * 2 ** attempt);
      this.retry = setTimeout(() => void this.listen(attempt + 1).catch(() => undefined), delay);
      this.retry.unref();
    };
    client.on('error', reconnect);
    client.on('end', () => reconnect(new Error('the listening connection ended')));
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      reconnect(error as Error);
      if (attempt === 0) throw error;
    }
  }
}
