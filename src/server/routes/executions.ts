/** Executions: start (with ?wait and Idempotency-Key), list, read, cancel. */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  ErrorCode,
  EXECUTION_STATUSES,
  type ExecutionStatus,
  isFinalExecutionStatus,
  OrchestratorError,
  type WorkflowEngine,
} from '../../engine/index.js';
import type { Readiness } from '../readiness.js';
import { commonErrors, eventStreamResponse, executionSchema, listOf, problemResponse } from '../schemas.js';
import { streamExecutionEvents } from '../sse.js';

/** Options of {@link executionRoutes}. */
export interface ExecutionRoutesOptions {
  engine: WorkflowEngine;
  readiness: Readiness;
}

/** A body is optional on these routes: none means `{}`. */
async function emptyBodyIsObject(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

/** Longest `?wait`, ms. */
export const MAX_WAIT_MS = 300_000;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

/** `/workflows/:name/executions` and `/executions` routes. */
export const executionRoutes: FastifyPluginAsync<ExecutionRoutesOptions> = async (
  app,
  { engine, readiness },
) => {
  app.post<{
    Params: { name: string };
    Querystring: { wait?: number };
    Body: { input?: unknown } | undefined;
    Headers: { 'idempotency-key'?: string };
  }>(
    '/workflows/:name/executions',
    {
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['executions'],
        summary: 'Start an execution',
        description:
          '202 + Location with the execution document. With ?wait=MS, waits up to MS for the end: 200 with the final document, else 202. ' +
          'A repeat with the same Idempotency-Key and body answers 200 with the existing execution and Idempotent-Replayed: true; the same key with another body is 422.',
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            wait: {
              type: 'integer',
              minimum: 0,
              maximum: MAX_WAIT_MS,
              description: 'ms to wait for the end',
            },
          },
        },
        headers: {
          type: 'object',
          properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            input: { description: 'Execution input, validated against the workflow input schema.' },
          },
        },
        response: {
          200: executionSchema,
          202: executionSchema,
          404: problemResponse,
          409: problemResponse,
          422: problemResponse,
          429: problemResponse,
          503: problemResponse,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { execution, replayed } = await engine.startWorkflow(
        request.params.name,
        request.body?.input ?? {},
        {
          ...(key ? { idempotencyKey: key } : {}),
        },
      );
      let document = execution;
      const wait = request.query.wait;
      if (wait !== undefined && wait > 0 && !isFinalExecutionStatus(document.status)) {
        // A shutdown ends the wait early: the answer is then 202 with the document as it stands.
        let stopWaiting: () => void = () => undefined;
        const closing = new Promise<undefined>((resolve) => {
          stopWaiting = readiness.onClosing(() => resolve(undefined));
        });
        const finished = await Promise.race([engine.waitForExecution(document.id, wait), closing]);
        stopWaiting();
        document = finished ?? (await engine.getWorkflowStatus(document.id)) ?? document;
      }
      reply.header('location', `/executions/${document.id}`);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(replayed || isFinalExecutionStatus(document.status) ? 200 : 202).send(document);
    },
  );

  app.get<{ Querystring: { status?: ExecutionStatus; workflow?: string; limit?: number; cursor?: string } }>(
    '/executions',
    {
      schema: {
        tags: ['executions'],
        summary: 'Executions, newest first, paged with a cursor',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: [...EXECUTION_STATUSES] },
            workflow: { type: 'string', minLength: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            cursor: { type: 'string', minLength: 1 },
          },
        },
        response: { 200: listOf(executionSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, workflow, limit, cursor } = request.query;
      return engine.listExecutions({
        limit: limit ?? 50,
        ...(status ? { status } : {}),
        ...(workflow ? { workflow } : {}),
        ...(cursor ? { cursor } : {}),
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/executions/:id',
    {
      schema: {
        tags: ['executions'],
        summary: 'One execution document',
        params: idParams,
        response: { 200: executionSchema, 404: problemResponse, ...commonErrors },
      },
    },
    async (request) => {
      const document = await engine.getWorkflowStatus(request.params.id);
      if (!document) throw notFound(request.params.id);
      return document;
    },
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/executions/:id/cancel',
    {
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['executions'],
        summary: 'Cancel an execution: running steps are aborted and completed ones compensated',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { reason: { type: 'string', maxLength: 1000 } },
        },
        response: { 202: executionSchema, 404: problemResponse, 409: problemResponse, ...commonErrors },
      },
    },
    async (request, reply) => {
      const document = await engine.cancelWorkflow(
        request.params.id,
        request.body?.reason ?? 'cancelled through the API',
      );
      return reply.code(202).send(document);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/executions/:id/events',
    {
      schema: {
        tags: ['executions'],
        summary: 'Server-sent events of one execution, until it ends',
        description:
          'Each event is `event: <engine event name>` with `data: <JSON payload>`. The stream ends after workflow_completed; for a finished execution that event is sent at once.',
        params: idParams,
        response: { 200: eventStreamResponse, 404: problemResponse, ...commonErrors },
      },
    },
    async (request, reply) => {
      const document = await engine.getWorkflowStatus(request.params.id);
      if (!document) throw notFound(request.params.id);
      await streamExecutionEvents(engine, document, request, reply, readiness);
    },
  );
};

function notFound(id: string): OrchestratorError {
  return new OrchestratorError(ErrorCode.ExecutionNotFound, `execution '${id}' not found`);
}
