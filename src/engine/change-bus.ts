/**
 * The change bus port: how replicas sharing a store tell each other what
 * changed outside the store's reach (DESIGN.md, Durability and scale: a
 * workflow registered, or a circuit breaker reset, through one replica
 * reaches every replica within a second). On PostgreSQL it is LISTEN/NOTIFY;
 * a single process needs none.
 */

/** One change, with the replica it came from. */
export type Change =
  | { kind: 'workflow'; name: string; origin: string }
  | { kind: 'breaker_reset'; mcp: string; origin: string }
  /** A cancel request for an execution another replica runs. */
  | { kind: 'cancel'; executionId: string; reason: string; origin: string };

/** Publishes changes and delivers those of other replicas. */
export interface ChangeBus {
  publish(change: Change): Promise<void>;
  /** Calls `listener` for every change published by any replica (this one included); returns a stop function. */
  subscribe(listener: (change: Change) => void): Promise<() => Promise<void>>;
}
