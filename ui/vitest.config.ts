/**
 * Unit tests of the console's own logic (event stream parsing, event
 * application, the Run form, the rollback order, the graph), beside the
 * code in ui/src. The browser tests of the whole console are test/ui.test.ts.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'ui',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
  // Vitest's cache beside the other dependencies, not in ui/ (which the Docker context takes whole).
  cacheDir: '../node_modules/.vite/ui-tests',
});
