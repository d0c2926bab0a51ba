/**
 * Global setup of the integration tests: one throwaway PostgreSQL cluster
 * for the run (each test makes its own database on it).
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './support/postgres-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPostgres();
  project.provide('postgresUrl', cluster.url);
  return () => cluster.stop();
}
