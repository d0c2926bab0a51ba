/**
 * The JSON Schema of a workflow definition. It is the single source for
 * validation at registration, the shipped `schemas/workflow.schema.json`
 * (editors can point `yaml-language-server` at it) and, later, OpenAPI.
 * Semantic rules a schema cannot express (graph, expressions, MCP lookups)
 * live in `compile-workflow.ts`.
 */

/** Step names must be usable in expressions as `$steps.NAME` without quoting. */
export const STEP_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** Workflow names as DESIGN.md allows them. */
export const WORKFLOW_NAME_PATTERN = '^[A-Za-z0-9_.-]+$';

const positiveMs = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;
const retries = { type: 'integer', minimum: 0, maximum: 100 } as const;
const backoff = {
  type: 'object',
  additionalProperties: false,
  properties: {
    initialDelay: { type: 'integer', minimum: 0, maximum: 3_600_000 },
    maxDelay: { type: 'integer', minimum: 0, maximum: 3_600_000 },
  },
} as const;
const params = {
  type: 'object',
  description: 'Tool arguments; strings starting with $input, $steps or $execution are expressions.',
} as const;
const toolName = { type: 'string', minLength: 1, maxLength: 256 } as const;
const mcpName = { type: 'string', minLength: 1, maxLength: 256 } as const;

/** Builds the schema; `maxSteps` is `MAX_WORKFLOW_STEPS`. */
export function workflowSchema(maxSteps = 500) {
  return {
    $id: 'urn:orchestrator-mcp:schemas:workflow',
    title: 'orchestrator-mcp workflow',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'version', 'steps'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200, pattern: WORKFLOW_NAME_PATTERN },
      version: { type: 'string', minLength: 1, maxLength: 100 },
      description: { type: 'string', maxLength: 10_000 },
      timeout: { ...positiveMs, description: 'Whole execution, ms.' },
      input: { type: 'object', description: 'JSON Schema of the execution input.' },
      output: { description: 'Expression or template of the execution output.' },
      steps: {
        type: 'array',
        minItems: 1,
        maxItems: maxSteps,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'action'],
          properties: {
            name: { type: 'string', maxLength: 200, pattern: STEP_NAME_PATTERN },
            description: { type: 'string', maxLength: 10_000 },
            mcp: mcpName,
            capability: mcpName,
            action: toolName,
            params,
            timeout: { ...positiveMs, description: 'Per attempt, ms.' },
            retries,
            backoff,
            parallel: { type: 'boolean' },
            dependsOn: { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 } },
            condition: { type: ['string', 'boolean'] },
            compensation: {
              type: 'object',
              additionalProperties: false,
              required: ['action'],
              properties: {
                mcp: mcpName,
                capability: mcpName,
                action: toolName,
                params,
                timeout: positiveMs,
                retries,
                backoff,
              },
            },
          },
        },
      },
    },
  } as const;
}
