/**
 * Server-sent events of one execution: every engine event of it, as
 * `event: <name>` and `data: <JSON>`, until `workflow_completed`; a finished
 * execution gets that last event at once. Subscribes before reading the
 * status, so no event falls between the two.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  EXECUTION_EVENT_NAMES,
  type ExecutionDocument,
  isFinalExecutionStatus,
  type WorkflowCompletedEvent,
  type WorkflowEngine,
} from '../engine/index.js';
import { listenWhileOpen, openEventStream } from './event-stream.js';
import type { Readiness } from './readiness.js';

/** How often an execution running elsewhere (another replica) is looked up, ms. */
const REMOTE_POLL_MS = 1000;

/** The final event of a finished execution, built from its document. */
export function completionEvent(document: ExecutionDocument): WorkflowCompletedEvent {
  const event: WorkflowCompletedEvent = {
    executionId: document.id,
    workflow: document.workflow,
    timestamp: document.completedAt ?? new Date().toISOString(),
    status: document.status,
    durationMs: document.durationMs,
  };
  if (document.status === 'completed') event.output = document.output;
  if (document.error) event.error = document.error;
  return event;
}

/** Takes over the reply and streams the execution's events. */
export async function streamExecutionEvents(
  engine: WorkflowEngine,
  initial: ExecutionDocument,
  request: FastifyRequest,
  reply: FastifyReply,
  readiness: Readiness,
): Promise<void> {
  const id = initial.id;
  const stream = openEventStream(request, reply, readiness);
  if (!stream) return;
  const send = (name: string, payload: unknown) => {
    stream.send(name, payload);
    if (name === 'workflow_completed') stream.end();
  };
  const emitter = engine as unknown as NodeJS.EventEmitter;
  for (const name of EXECUTION_EVENT_NAMES) {
    listenWhileOpen(stream, emitter, name, (payload: { executionId: string }) => {
      if (payload.executionId === id) send(name, payload);
    });
  }

  const check = async () => {
    const now = await engine.getWorkflowStatus(id);
    if (now && isFinalExecutionStatus(now.status)) send('workflow_completed', completionEvent(now));
  };
  await check();
  // Events of an execution another replica runs (from the start, or since it took it over) do not
  // pass this process: the store says when it ends. While it runs here the check reads memory.
  if (stream.ended) return;
  const poll = setInterval(() => void check().catch(() => undefined), REMOTE_POLL_MS);
  stream.onEnd(() => clearInterval(poll));
}
