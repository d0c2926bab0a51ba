/**
 * The HTTP API as a Fastify plugin (DESIGN.md, REST API). It holds no state
 * of its own: the engine, the discovery service, telemetry and readiness are
 * handed in by the composition root (`main.ts`) or by tests.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { MCPDiscoveryService } from '../discovery/index.js';
import { ErrorCode, OrchestratorError, type WorkflowEngine } from '../engine/index.js';
import { VERSION } from '../version.js';
import { registerAuth } from './auth.js';
import { problem, sendProblem, toProblem } from './problem.js';
import type { Readiness } from './readiness.js';
import { eventRoutes } from './routes/events.js';
import { executionRoutes } from './routes/executions.js';
import { mcpRoutes } from './routes/mcps.js';
import { probeRoutes } from './routes/probes.js';
import { workflowRoutes } from './routes/workflows.js';
import type { Telemetry } from './telemetry.js';
import { uiRoutes } from './ui-route.js';

/** What the API needs. */
export interface AppOptions {
  engine: WorkflowEngine;
  discovery: MCPDiscoveryService;
  telemetry: Telemetry;
  readiness: Readiness;
  /** `API_KEYS`; empty: no authentication. */
  apiKeys: readonly string[];
  /** `MAX_WORKFLOW_STEPS`, for the documented body schema. */
  maxWorkflowSteps: number;
  /** Called after a manual breaker reset. */
  onBreakerReset?(name: string): void;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const PROBES = new Set(['/health', '/ready', '/metrics']);

/** The API plugin. Register it on a Fastify instance created with the server's logger and body limit. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, options) => {
  options.telemetry.instrument(fastify);

  // JSON and YAML only: a text/plain body is refused (415) rather than read as a string.
  fastify.removeContentTypeParser('text/plain');
  // An empty JSON body (curl -H 'content-type: application/json' with no -d) means no body.
  const json = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    json(request, body as string, done);
  });
  // YAML bodies, parsed into the same shape as JSON; a syntax error names its line and column.
  fastify.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseYaml(body as string, { maxAliasCount: 100, uniqueKeys: true }));
    } catch (error) {
      const where =
        error instanceof YAMLParseError && error.linePos
          ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})`
          : '';
      const reason = (error as Error).message.split('\n')[0];
      done(
        new OrchestratorError(ErrorCode.BadRequest, `the body is not valid YAML${where}: ${reason}`, {
          errors: [{ path: '', message: `is not valid YAML${where}: ${reason}` }],
        }),
      );
    }
  });

  fastify.setErrorHandler((error, request, reply) => {
    const body = toProblem(error, request);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    if (body.retryAfterSeconds !== undefined) reply.header('retry-after', String(body.retryAfterSeconds));
    return sendProblem(reply, body);
  });
  fastify.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, 'ORCH_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, {
        instance: request.url.split('?')[0] ?? request.url,
      }),
    ),
  );

  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'orchestrator-mcp',
        version: VERSION,
        description:
          'Runs workflows of MCP tool calls. Errors are RFC 9457 problem details (application/problem+json).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS, when set.' },
        },
      },
      security: options.apiKeys.length > 0 ? [{ bearer: [] }] : [],
      tags: [
        { name: 'workflows', description: 'Workflow definitions' },
        { name: 'executions', description: 'Runs of workflows' },
        { name: 'mcps', description: 'MCP servers, health and circuit breakers' },
        { name: 'probes', description: 'Liveness, readiness, metrics' },
      ],
    },
  });
  await fastify.register(fastifySwaggerUi, { routePrefix: '/docs' });

  registerAuth(fastify, options.apiKeys);
  // Starting: only the probes answer. Shutting down: no new executions; everything else keeps answering.
  fastify.addHook('onRequest', async (request, reply) => {
    if (options.readiness.state === 'starting' && !PROBES.has(request.url.split('?')[0] ?? '')) {
      reply.header('retry-after', '1');
      return sendProblem(
        reply,
        problem(503, 'ORCH_NOT_READY', 'the server is starting', {
          instance: request.url,
          state: 'starting',
        }),
      );
    }
    if (
      options.readiness.state === 'draining' &&
      request.method === 'POST' &&
      /^\/workflows\/[^/]+\/executions/.test(request.url)
    ) {
      reply.header('retry-after', '5');
      return sendProblem(
        reply,
        problem(503, ErrorCode.ShuttingDown, 'the server is shutting down', { instance: request.url }),
      );
    }
  });

  await fastify.register(probeRoutes, { readiness: options.readiness, registry: options.telemetry.registry });
  await fastify.register(workflowRoutes, {
    engine: options.engine,
    maxWorkflowSteps: options.maxWorkflowSteps,
  });
  await fastify.register(executionRoutes, { engine: options.engine, readiness: options.readiness });
  await fastify.register(eventRoutes, {
    engine: options.engine,
    discovery: options.discovery,
    readiness: options.readiness,
  });
  await fastify.register(mcpRoutes, {
    discovery: options.discovery,
    ...(options.onBreakerReset ? { onBreakerReset: options.onBreakerReset } : {}),
  });
  await fastify.register(uiRoutes);
};

/** The routes of the API, as OpenAPI lists them. */
export function openApiPaths(fastify: FastifyInstance): string[] {
  return Object.keys((fastify.swagger() as { paths?: Record<string, unknown> }).paths ?? {});
}
