/**
 * `API_KEYS` bearer authentication (DESIGN.md, REST API): every route but
 * the probes, metrics and routes marked `config.public` (the console's page,
 * which holds no data) needs `Authorization: Bearer <key>`. Keys are
 * compared in constant time over their SHA-256 digests, so neither content
 * nor length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { problem, sendProblem } from './problem.js';

/** Paths that stay open without a key. */
const OPEN_PATHS = new Set(['/health', '/ready', '/metrics']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route serves no data and needs no key (the console's page and assets). */
    public?: boolean;
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Adds the bearer check for `keys` (nothing when there are none). */
export function registerAuth(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const digests = keys.map(digest);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (OPEN_PATHS.has(path) || request.routeOptions.config.public === true) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const presented = match ? digest(match[1]!.trim()) : undefined;
    // Compare against every key, so the time taken does not tell which one (or whether any) matched.
    let ok = false;
    for (const key of digests) if (presented && timingSafeEqual(presented, key)) ok = true;
    if (ok) return;
    reply.header('www-authenticate', 'Bearer realm="orchestrator-mcp"');
    return sendProblem(
      reply,
      problem(
        401,
        'ORCH_UNAUTHORIZED',
        match ? 'the API key is not valid' : 'missing Authorization: Bearer <API key>',
        {
          instance: path,
        },
      ),
    );
  });
}
