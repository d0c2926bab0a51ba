/**
 * Builds the operator console (`npm run build:ui`) into `dist/ui`, which the
 * server serves at `/ui` (src/server/ui-route.ts). `npm run dev:ui` serves it
 * with live reload instead, passing API calls to a running server
 * (ORCHESTRATOR_URL, default http://localhost:3000).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const api = process.env.ORCHESTRATOR_URL ?? 'http://localhost:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  publicDir: false,
  // Vite's cache beside the other dependencies, not in ui/ (which the Docker context takes whole).
  cacheDir: '../node_modules/.vite/ui',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/ui',
    // The output lies outside `root`: Vite empties it only when told to.
    emptyOutDir: true,
    target: 'es2022',
    // Everything is a file of its own: the server's Content-Security-Policy allows no inline code.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(
      ['/workflows', '/executions', '/mcps', '/health', '/ready'].map((p) => [p, api]),
    ),
  },
});
