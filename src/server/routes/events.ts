/** `GET /events`: the server-wide event stream (see server-events.ts). */
import type { FastifyPluginAsync } from 'fastify';
import type { MCPDiscoveryService } from '../../discovery/index.js';
import type { WorkflowEngine } from '../../engine/index.js';
import type { Readiness } from '../readiness.js';
import { commonErrors, eventStreamResponse } from '../schemas.js';
import { MCP_STREAM_EVENTS, type ServerEventFilter, streamServerEvents } from '../server-events.js';

/** Options of {@link eventRoutes}. */
export interface EventRoutesOptions {
  engine: WorkflowEngine;
  discovery: MCPDiscoveryService;
  readiness: Readiness;
}

interface EventsQuery {
  workflow?: string;
  topics?: string;
}

/** `/events` route. */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (
  app,
  { engine, discovery, readiness },
) => {
  app.get<{ Querystring: EventsQuery }>(
    '/events',
    {
      schema: {
        tags: ['executions'],
        summary: "Server-sent events of this replica: every execution's events and the MCP events",
        description:
          'Each event is `event: <name>` with `data: <JSON payload>`, live from when the stream opens (no replay). ' +
          'Execution events are those of GET /executions/:id/events; MCP events are ' +
          `${MCP_STREAM_EVENTS.join(', ')}. ` +
          'With several replicas, each streams the executions it runs. A client that stops reading ' +
          'for over 1 MiB of events is disconnected and should reconnect and re-read the lists.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow: {
              type: 'string',
              minLength: 1,
              maxLength: 200,
              description: 'Only the execution events of this workflow (and no MCP events).',
            },
            topics: {
              type: 'string',
              pattern: '^(executions|mcps)(,(executions|mcps))*$',
              description: 'executions, mcps, or both (default): which events to send.',
            },
          },
        },
        response: { 200: eventStreamResponse, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { workflow, topics } = request.query;
      const filter: ServerEventFilter = {
        topics: topics ? (topics.split(',') as ServerEventFilter['topics']) : ['executions', 'mcps'],
        ...(workflow !== undefined ? { workflow } : {}),
      };
      streamServerEvents(engine, discovery, filter, request, reply, readiness);
    },
  );
};
