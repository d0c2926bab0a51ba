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
  type ExecutionEventName,
  isFinalExecutionStatus,
  type WorkflowCompletedEvent,
  type WorkflowEngine,
} from '../engine/index.js';
import type { Readiness } from './readiness.js';

/** Interval of keep-alive comments, ms: proxies drop idle streams. */
const KEEP_ALIVE_MS = 15_000;
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
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  if (request.method === 'HEAD') {
    raw.end();
    return;
  }
  // Headers go out now, not with the first event: clients and proxies see the stream open at once.
  raw.write(': connected\n\n');
  let ended = false;
  let stopOnClose: () => void = () => undefined;
  const listeners: [ExecutionEventName, (payload: { executionId: string }) => void][] = [];
  const timers: NodeJS.Timeout[] = [];
  const end = () => {
    if (ended) return;
    ended = true;
    stopOnClose();
    for (const [name, listener] of listeners) (engine as unknown as NodeJS.EventEmitter).off(name, listener);
    for (const timer of timers) clearInterval(timer);
    raw.end();
  };
  const send = (name: string, payload: unknown) => {
    if (ended) return;
    raw.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
    if (name === 'workflow_completed') end();
  };
  for (const name of EXECUTION_EVENT_NAMES) {
    const listener = (payload: { executionId: string }) => {
      if (payload.executionId === id) send(name, payload);
    };
    listeners.push([name, listener]);
    (engine as unknown as NodeJS.EventEmitter).on(name, listener);
  }
  request.raw.on('close', end);
  // The server is closing: end the stream cleanly rather than have the socket cut.
  stopOnClose = readiness.onClosing(end);
  timers.push(setInterval(() => !ended && raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS));

  const check = async () => {
    const now = await engine.getWorkflowStatus(id);
    if (now && isFinalExecutionStatus(now.status)) send('workflow_completed', completionEvent(now));
  };
  await check();
  // Events of an execution another replica runs (from the start, or since it took it over) do not
  // pass this process: the store says when it ends. While it runs here the check reads memory.
  if (!ended) timers.push(setInterval(() => void check().catch(() => undefined), REMOTE_POLL_MS));
}
