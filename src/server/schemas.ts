/**
 * JSON Schemas of the REST API: they validate requests, serialise responses
 * and generate the OpenAPI document. `{}` means "any JSON value" (inputs,
 * outputs, results belong to the workflows, not to the API).
 */
import { CompensationStatus, EXECUTION_STATUSES, STEP_STATUSES, workflowSchema } from '../engine/index.js';

const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const anyJson = {} as const;

/** RFC 9457 problem details. */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  // RFC 9457 extension members (state, executionId, ...) pass through.
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', description: 'Stable error code, e.g. ORCH_WORKFLOW_INVALID.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    executionId: { type: 'string' },
    retryAfterSeconds: { type: 'integer' },
  },
} as const;

/**
 * An error answer: the problem document, served as `application/problem+json`
 * (what `sendProblem` sets), so OpenAPI says so and the document is
 * serialised by this schema for that type.
 */
export const problemResponse = {
  description: 'RFC 9457 problem details',
  content: { 'application/problem+json': { schema: problemSchema } },
} as const;

/** A 200 of an event stream route, for OpenAPI (the route writes the stream itself). */
export const eventStreamResponse = {
  description: 'A text/event-stream of `event:` / `data:` messages.',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
} as const;

const serializedError = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    retryable: { type: 'boolean' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

const stepSchema = {
  type: 'object',
  required: ['status', 'attempts', 'startedAt', 'completedAt', 'durationMs'],
  properties: {
    status: { type: 'string', enum: [...STEP_STATUSES] },
    attempts: { type: 'integer' },
    startedAt: nullableTime,
    completedAt: nullableTime,
    durationMs: { type: ['integer', 'null'] },
    result: anyJson,
    error: serializedError,
    attemptHistory: {
      type: 'array',
      description:
        "Each attempt (the latest 20), oldest first, with its times and outcome; absent until the step's first attempt.",
      items: {
        type: 'object',
        required: ['attempt', 'startedAt', 'completedAt', 'durationMs'],
        properties: {
          attempt: { type: 'integer' },
          startedAt: isoTime,
          completedAt: nullableTime,
          durationMs: { type: ['integer', 'null'] },
          outcome: {
            type: 'string',
            enum: ['completed', 'failed', 'timed_out', 'cancelled', 'interrupted'],
            description: 'Unset while the attempt runs; interrupted: the process stopped during it.',
          },
          error: serializedError,
          retryDelayMs: { type: 'integer', description: 'Backoff before the next attempt.' },
        },
      },
    },
    compensation: {
      type: 'object',
      required: ['status', 'attempts'],
      properties: {
        status: { type: 'string', enum: Object.values(CompensationStatus) },
        attempts: { type: 'integer' },
        order: { type: 'integer', description: 'Place in the rollback: 1 ran first.' },
        startedAt: isoTime,
        completedAt: isoTime,
        durationMs: { type: 'integer' },
        result: anyJson,
        error: serializedError,
      },
    },
  },
} as const;

/** The execution document of DESIGN.md. */
export const executionSchema = {
  type: 'object',
  required: [
    'id',
    'workflow',
    'status',
    'owner',
    'input',
    'output',
    'createdAt',
    'startedAt',
    'completedAt',
    'durationMs',
    'steps',
  ],
  properties: {
    id: { type: 'string' },
    workflow: {
      type: 'object',
      required: ['name', 'version'],
      properties: { name: { type: 'string' }, version: { type: 'string' } },
    },
    status: { type: 'string', enum: [...EXECUTION_STATUSES] },
    owner: {
      type: ['string', 'null'],
      description: 'INSTANCE_ID of the replica running it; null once finished.',
    },
    input: anyJson,
    output: anyJson,
    error: serializedError,
    createdAt: isoTime,
    startedAt: nullableTime,
    completedAt: nullableTime,
    durationMs: { type: ['integer', 'null'] },
    steps: { type: 'object', additionalProperties: stepSchema },
  },
} as const;

/** A registered workflow in lists. */
export const workflowSummarySchema = {
  type: 'object',
  required: ['name', 'version', 'steps', 'registeredAt'],
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    description: { type: 'string' },
    steps: { type: 'integer', description: 'Number of steps.' },
    registeredAt: isoTime,
  },
} as const;

/** A registered workflow with its definition. */
export const workflowDetailSchema = {
  type: 'object',
  required: [...workflowSummarySchema.required, 'definition'],
  properties: {
    ...workflowSummarySchema.properties,
    definition: { type: 'object', additionalProperties: true },
  },
} as const;

/** The definition as POST /workflows takes it (documentation; the engine validates it). */
export function workflowBodySchema(maxSteps: number) {
  const { $id: _id, ...schema } = workflowSchema(maxSteps);
  return schema;
}

const breakerSchema = {
  type: 'object',
  required: ['state', 'failures'],
  properties: {
    state: { type: 'string', enum: ['closed', 'open', 'half-open'] },
    failures: { type: 'integer' },
    openedAt: isoTime,
  },
} as const;

/** Health of an MCP. */
export const healthSchema = {
  type: 'object',
  required: ['status', 'checkedAt', 'latencyMs'],
  properties: {
    status: { type: 'string', enum: ['healthy', 'unhealthy', 'unknown'] },
    checkedAt: nullableTime,
    latencyMs: { type: ['integer', 'null'] },
    error: { type: 'string' },
  },
} as const;

/** The MCP document of DESIGN.md: configuration without secrets, health, breaker. */
export const mcpSchema = {
  type: 'object',
  required: [
    'name',
    'displayName',
    'version',
    'status',
    'priority',
    'source',
    'capabilities',
    'tools',
    'endpoints',
    'health',
    'circuitBreaker',
  ],
  properties: {
    name: { type: 'string' },
    displayName: { type: 'string' },
    version: { type: 'string' },
    status: { type: 'string', enum: ['active', 'inactive'] },
    priority: { type: 'integer' },
    source: { type: 'string', description: 'file, env, dns, kubernetes, multicast or a custom method.' },
    capabilities: { type: 'array', items: { type: 'string' } },
    tools: { type: ['array', 'null'], items: { type: 'string' } },
    timeout: { type: 'integer' },
    maxConcurrency: { type: 'integer' },
    protocolVersion: { type: ['string', 'null'] },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'protocol', 'circuitBreaker'],
        properties: {
          name: { type: 'string' },
          protocol: { type: 'string', enum: ['http', 'stdio'] },
          url: { type: 'string' },
          command: { type: 'string' },
          headers: { type: 'object', additionalProperties: { type: 'string', const: '***' } },
          circuitBreaker: breakerSchema,
        },
      },
    },
    health: healthSchema,
    circuitBreaker: breakerSchema,
  },
} as const;

/** `{ items, nextCursor? }` of a schema. */
export function listOf<T extends object>(item: T) {
  return {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: item }, nextCursor: { type: 'string' } },
  } as const;
}

/** Error responses every authenticated route may give. */
export const commonErrors = {
  400: problemResponse,
  401: problemResponse,
  500: problemResponse,
} as const;
