/**
 * RFC 9457 problem details for every error the API returns, from one place:
 * engine error codes and Fastify's own errors map to a status here; a 5xx
 * body never carries the internal message.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  ErrorCode,
  isOrchestratorError,
  joinPath,
  pointerToPath,
  type ValidationIssue,
} from '../engine/index.js';

/** A problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  errors?: ValidationIssue[];
  [extension: string]: unknown;
}

const STATUS_BY_CODE: Partial<Record<string, number>> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.WorkflowInvalid]: 400,
  [ErrorCode.RegistryInvalid]: 400,
  [ErrorCode.InputInvalid]: 400,
  [ErrorCode.WorkflowNotFound]: 404,
  [ErrorCode.ExecutionNotFound]: 404,
  [ErrorCode.McpNotFound]: 404,
  [ErrorCode.WorkflowConflict]: 409,
  [ErrorCode.ExecutionFinished]: 409,
  [ErrorCode.IdempotencyConflict]: 422,
  [ErrorCode.QueueFull]: 429,
  [ErrorCode.ShuttingDown]: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Code used for errors that are not the orchestrator's own. */
const HTTP_CODES: Record<number, string> = {
  400: 'ORCH_BAD_REQUEST',
  401: 'ORCH_UNAUTHORIZED',
  404: 'ORCH_NOT_FOUND',
  405: 'ORCH_METHOD_NOT_ALLOWED',
  406: 'ORCH_NOT_ACCEPTABLE',
  413: 'ORCH_BODY_TOO_LARGE',
  415: 'ORCH_UNSUPPORTED_MEDIA_TYPE',
  500: 'ORCH_INTERNAL',
  503: 'ORCH_UNAVAILABLE',
};

/** Builds a problem document. */
export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: `urn:orchestrator-mcp:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
}

/** Sends a problem document. */
export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json').send(body);
}

/** Turns any error into the problem document to send. */
export function toProblem(error: unknown, request: FastifyRequest): Problem {
  const instance = request.url.split('?')[0];
  if (isOrchestratorError(error)) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
    if (status >= 500 && error.code !== ErrorCode.ShuttingDown) {
      return problem(500, ErrorCode.Internal, 'the server failed to handle this request', { instance });
    }
    const extra: Partial<Problem> = { instance };
    if (error.errors && error.errors.length > 0) extra.errors = error.errors;
    if (error.details?.executionId) extra.executionId = error.details.executionId;
    if (error.details?.retryAfterSeconds !== undefined)
      extra.retryAfterSeconds = error.details.retryAfterSeconds;
    if (error.code === ErrorCode.ShuttingDown) extra.retryAfterSeconds = 5;
    return problem(status, error.code, error.message, extra);
  }
  const e = error as FastifyError & {
    validation?: {
      instancePath: string;
      message?: string;
      params?: Record<string, unknown>;
      keyword: string;
    }[];
    validationContext?: string;
  };
  if (e.validation) {
    // Paths from the root of what was sent: a body field or a query parameter by its own name.
    const root =
      e.validationContext === 'body' || e.validationContext === 'querystring'
        ? ''
        : (e.validationContext ?? '');
    const errors = e.validation.map((v) => {
      let path = pointerToPath(v.instancePath, root);
      if (v.keyword === 'required' && v.params?.missingProperty)
        path = joinPath(path, String(v.params.missingProperty));
      if (v.keyword === 'additionalProperties' && v.params?.additionalProperty)
        path = joinPath(path, String(v.params.additionalProperty));
      let message = v.message ?? 'is invalid';
      if (v.keyword === 'required') message = 'is required';
      else if (v.keyword === 'enum' && Array.isArray(v.params?.allowedValues)) {
        message = `must be one of: ${(v.params.allowedValues as unknown[]).join(', ')}`;
      }
      return { path: path || 'body', message };
    });
    const first = errors[0];
    return problem(
      400,
      ErrorCode.BadRequest,
      `invalid request: ${first ? `${first.path}: ${first.message}` : 'rejected'}`,
      { instance, errors },
    );
  }
  const status =
    typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (status >= 500)
    return problem(500, 'ORCH_INTERNAL', 'the server failed to handle this request', { instance });
  let detail = e.message;
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') detail = 'the request body is larger than BODY_LIMIT';
  else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    detail = `unsupported Content-Type; send application/json${request.url.startsWith('/workflows') ? ' or application/yaml' : ''}`;
  else if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError)
    detail = `the body is not valid JSON: ${e.message}`;
  return problem(status, HTTP_CODES[status] ?? ErrorCode.BadRequest, detail, { instance });
}
