/** MCP servers: documents, health checks on demand, circuit breaker resets. */
import type { FastifyPluginAsync } from 'fastify';
import type { MCPDiscoveryService } from '../../discovery/index.js';
import { ErrorCode, OrchestratorError } from '../../engine/index.js';
import { commonErrors, healthSchema, listOf, mcpSchema, problemResponse, problemSchema } from '../schemas.js';

/** Options of {@link mcpRoutes}. */
export interface McpRoutesOptions {
  discovery: MCPDiscoveryService;
  /** Called after a manual breaker reset, so other replicas can follow. */
  onBreakerReset?(name: string): void;
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const healthResponse = {
  type: 'object',
  required: ['name', ...healthSchema.required],
  properties: { name: { type: 'string' }, ...healthSchema.properties },
} as const;

/** `/mcps` routes. */
export const mcpRoutes: FastifyPluginAsync<McpRoutesOptions> = async (app, { discovery, onBreakerReset }) => {
  app.get(
    '/mcps',
    {
      schema: {
        tags: ['mcps'],
        summary: 'Every MCP: configuration without secrets, health, breaker state',
        response: { 200: listOf(mcpSchema), ...commonErrors },
      },
    },
    async () => ({ items: discovery.getMcps() }),
  );

  app.get<{ Params: { name: string } }>(
    '/mcps/:name',
    {
      schema: {
        tags: ['mcps'],
        summary: 'One MCP',
        params: nameParams,
        response: { 200: mcpSchema, 404: problemResponse, ...commonErrors },
      },
    },
    async (request) => {
      const mcp = discovery.getMcp(request.params.name);
      if (!mcp) throw notFound(request.params.name);
      return mcp;
    },
  );

  app.get<{ Params: { name: string } }>(
    '/mcps/:name/health',
    {
      schema: {
        tags: ['mcps'],
        summary: 'Checks an MCP now: 200 healthy, 503 unhealthy',
        params: nameParams,
        response: {
          200: healthResponse,
          503: {
            description:
              'Unhealthy (the health report), or the server is starting or stopping (a problem document)',
            content: {
              'application/json': { schema: healthResponse },
              'application/problem+json': { schema: problemSchema },
            },
          },
          404: problemResponse,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const health = await discovery.checkHealth(request.params.name);
      if (!health) throw notFound(request.params.name);
      return reply
        .code(health.status === 'healthy' ? 200 : 503)
        .send({ name: request.params.name, ...health });
    },
  );

  app.post<{ Params: { name: string } }>(
    '/mcps/:name/circuit-breaker/reset',
    {
      schema: {
        tags: ['mcps'],
        summary: "Closes the MCP's circuit breakers (every endpoint's)",
        params: nameParams,
        response: {
          200: {
            type: 'object',
            required: ['name', 'state'],
            properties: { name: { type: 'string' }, state: { type: 'string', const: 'closed' } },
          },
          404: problemResponse,
          ...commonErrors,
        },
      },
    },
    async (request) => {
      if (!discovery.resetCircuitBreaker(request.params.name)) throw notFound(request.params.name);
      onBreakerReset?.(request.params.name);
      return { name: request.params.name, state: 'closed' };
    },
  );
};

function notFound(name: string): OrchestratorError {
  return new OrchestratorError(ErrorCode.McpNotFound, `MCP '${name}' is not known`);
}
