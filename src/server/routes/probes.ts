/** Liveness, readiness and Prometheus metrics: open without an API key. */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { problem, sendProblem } from '../problem.js';
import type { Readiness } from '../readiness.js';
import { problemResponse } from '../schemas.js';

/** Options of {@link probeRoutes}. */
export interface ProbeRoutesOptions {
  readiness: Readiness;
  registry: Registry;
}

/** `/health`, `/ready`, `/metrics`. */
export const probeRoutes: FastifyPluginAsync<ProbeRoutesOptions> = async (app, { readiness, registry }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['probes'],
        security: [],
        summary: 'Liveness: 200 while the process serves',
        response: { 200: { type: 'object', properties: { status: { type: 'string', const: 'ok' } } } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['probes'],
        security: [],
        summary:
          'Readiness: 200 once registry, workflows and store are loaded; 503 while starting or draining',
        description:
          'Never tied to a downstream MCP: an MCP that is down does not take the orchestrator out of service.',
        response: {
          200: { type: 'object', properties: { status: { type: 'string', const: 'ready' } } },
          503: problemResponse,
        },
      },
    },
    async (request, reply) => {
      if (readiness.state === 'ready') return { status: 'ready' };
      return sendProblem(
        reply,
        problem(503, 'ORCH_NOT_READY', `the server is ${readiness.state}`, {
          instance: request.url,
          state: readiness.state,
        }),
      );
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['probes'], security: [], summary: 'Prometheus metrics (text exposition format)' } },
    async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
};
