/**
 * `GET /events`: one stream of what happens on this replica, for dashboards
 * and the console's lists: every execution event (optionally of one
 * workflow) and the MCP events (health, breakers, discovery). Live only: it
 * starts with what happens after it opens, and an execution another replica
 * runs is not in it (that replica's own `/events` has it).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MCPDiscoveryService } from '../discovery/index.js';
import { EXECUTION_EVENT_NAMES, type WorkflowEngine } from '../engine/index.js';
import { listenWhileOpen, openEventStream } from './event-stream.js';
import type { Readiness } from './readiness.js';

/** MCP events the stream carries (per-call and log events are left to metrics and logs). */
export const MCP_STREAM_EVENTS = [
  'mcp_healthy',
  'mcp_unhealthy',
  'circuit_breaker_state_change',
  'mcp_discovered',
  'mcp_updated',
  'mcp_removed',
  'mcp_tools_changed',
] as const;

/** What the stream looks at in an event: its workflow, for execution events. */
type Payload = { workflow?: { name: string } };

/** What a client of `GET /events` asked for. */
export interface ServerEventFilter {
  /** Execution events of this workflow only (and no MCP events). */
  workflow?: string;
  /** Which kinds: execution events, MCP events, or both (the default). */
  topics: readonly ('executions' | 'mcps')[];
}

/** Takes over the reply and streams this replica's events until the client or the server goes. */
export function streamServerEvents(
  engine: WorkflowEngine,
  discovery: MCPDiscoveryService,
  filter: ServerEventFilter,
  request: FastifyRequest,
  reply: FastifyReply,
  readiness: Readiness,
): void {
  const stream = openEventStream(request, reply, readiness);
  if (!stream) return;
  const subscribe = (emitter: NodeJS.EventEmitter, name: string, keep: (payload: Payload) => boolean) =>
    listenWhileOpen(stream, emitter, name, (payload: Payload) => {
      if (keep(payload)) stream.send(name, payload);
    });
  if (filter.topics.includes('executions')) {
    const workflow = filter.workflow;
    const keep = workflow ? (payload: Payload) => payload.workflow?.name === workflow : () => true;
    for (const name of EXECUTION_EVENT_NAMES) subscribe(engine as unknown as NodeJS.EventEmitter, name, keep);
  }
  if (filter.topics.includes('mcps') && filter.workflow === undefined) {
    for (const name of MCP_STREAM_EVENTS)
      subscribe(discovery as unknown as NodeJS.EventEmitter, name, () => true);
  }
}
