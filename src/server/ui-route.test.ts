import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { uiRoutes } from './ui-route.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The routes over a built console of `files` (none: not built). */
async function serve(files?: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'orch-ui-'));
  const dir = join(root, 'ui');
  if (files) {
    mkdirSync(join(dir, 'assets'), { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(root, 'secret.txt'), 'not for the browser');
  const app = Fastify();
  await app.register(uiRoutes, { dir });
  cleanups.push(
    () => app.close(),
    () => rmSync(root, { recursive: true, force: true }),
  );
  return app;
}

const built = {
  'index.html': '<!doctype html><title>console</title>',
  'assets/index-abc123.js': 'console.log(1)',
  'assets/index-abc123.css': 'body{}',
};

describe('uiRoutes', () => {
  it('answers every console path with the app, which routes in the browser', async () => {
    const app = await serve(built);
    for (const url of [
      '/ui',
      '/ui/',
      '/ui/executions',
      '/ui/executions/01a2?status=failed',
      '/ui/workflows/x%20y',
      '/ui/workflows/billing.v2',
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toBe(built['index.html']);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      // A new build must be seen at the next load.
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('serves built assets with their type, cached for good: their names change with their content', async () => {
    const app = await serve(built);
    const script = await app.inject({ url: '/ui/assets/index-abc123.js' });
    expect(script.statusCode).toBe(200);
    expect(script.body).toBe('console.log(1)');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.inject({ url: '/ui/assets/index-abc123.css' })).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
  });

  it('answers 404, not the app, for a file that is not there', async () => {
    const app = await serve(built);
    for (const url of ['/ui/assets/index-old.js', '/ui/favicon.ico']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json(), url).toMatchObject({ code: 'ORCH_NOT_FOUND' });
    }
  });

  it('never serves a file outside its directory, however the path is spelled', async () => {
    const app = await serve(built);
    for (const url of ['/ui/assets/..%2f..%2fsecret.txt', '/ui/assets/%2e%2e/%2e%2e/secret.txt']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.body, url).not.toContain('not for the browser');
    }
    // Outside `assets/`, a path with a slash is a route of the app: the shell, not the file.
    expect((await app.inject({ url: '/ui/..%2fsecret.txt' })).body).toBe(built['index.html']);
  });

  it('says how to build the console when it is not built', async () => {
    const app = await serve();
    const response = await app.inject({ url: '/ui/executions' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({
      code: 'ORCH_NOT_FOUND',
      detail: expect.stringContaining('npm run build:ui'),
    });
  });
});
