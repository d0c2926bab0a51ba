import { defineConfig } from 'vitest/config';

// `npm run test:load`: the load test alone (it is also part of the integration project that
// `npm test` runs). It needs no PostgreSQL, so it skips the integration project's global setup.
export default defineConfig({
  test: {
    include: ['test/load.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
