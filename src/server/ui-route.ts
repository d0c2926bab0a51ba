/**
 * The operator console at `/ui`: the single-page app that `npm run build:ui`
 * (Vite) writes to `dist/ui`, served from disk by this process, so nothing is
 * loaded from another host. The page and its assets hold no data and are
 * public (`config.public`, read by the API key check); everything the page
 * shows it fetches from the REST API and its event streams, with the key.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { problem, sendProblem } from './problem.js';

/** `dist/ui` of the package: the same relative path from `src/server` (tsx) and `dist/server` (compiled). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

/** Options of {@link uiRoutes}. */
export interface UiRoutesOptions {
  /** Directory of the built console (`index.html`, `assets/`). */
  dir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

// The console runs its own scripts and styles only, and talks to this origin only. Styles set from
// script (node positions, bar widths) go through the CSSOM, which 'self' allows.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** `/ui` and `/ui/*`: built files as they are, any other path the app's shell (it routes in the browser). */
export const uiRoutes: FastifyPluginAsync<UiRoutesOptions> = async (app, options) => {
  const root = resolve(options.dir ?? DEFAULT_UI_DIR);
  const route = { schema: { hide: true }, config: { public: true } } as const;

  const sendFile = async (reply: FastifyReply, relative: string, immutable: boolean) => {
    const path = resolve(root, relative);
    // Nothing outside the console's directory, however the path is spelled.
    if (path !== root && !path.startsWith(root + sep)) return undefined;
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      return undefined;
    }
    return (
      reply
        .headers(SECURITY_HEADERS)
        .header('content-type', CONTENT_TYPES[extname(path)] ?? 'application/octet-stream')
        // Vite names assets after their content: they never change. The shell must be re-read to
        // pick up a new build.
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(body)
    );
  };

  const sendShell = async (reply: FastifyReply, url: string) =>
    (await sendFile(reply, 'index.html', false)) ??
    sendProblem(
      reply,
      problem(404, 'ORCH_NOT_FOUND', 'the console is not built: run `npm run build:ui`', { instance: url }),
    );

  app.get('/ui', route, (request, reply) => sendShell(reply, request.url));
  app.get<{ Params: { '*': string } }>('/ui/*', route, async (request, reply) => {
    const path = request.params['*'];
    // Files are the built assets and top-level files like index.html; a route may have a dot in it
    // (`/ui/workflows/billing.v2`: workflow names allow dots) and is still the app's.
    const isAsset = path.startsWith('assets/') || (!path.includes('/') && extname(path) !== '');
    if (!isAsset) return sendShell(reply, request.url);
    const sent = await sendFile(reply, path, path.startsWith('assets/'));
    return (
      sent ??
      sendProblem(reply, problem(404, 'ORCH_NOT_FOUND', `no console file ${path}`, { instance: request.url }))
    );
  });
};
