/** Adapters of the engine's execution store port. */
export { decodeCursor, encodeCursor } from './cursor.js';
export { DEFAULT_DATABASE_URL, openStore } from './open-store.js';
export { PostgresChangeBus, type PostgresChangeBusOptions } from './postgres-change-bus.js';
export { PostgresExecutionStore, type PostgresStoreOptions } from './postgres-store.js';
export { SqliteExecutionStore, type SqliteStoreOptions } from './sqlite-store.js';
