/**
 * JSON Schema of `mcp-registry.json` (DESIGN.md, Registry): the seed format,
 * extended. Rules a schema states badly (which fields a protocol needs) are
 * checked in `registry-loader.ts` with clearer messages.
 */

/** MCP names: the registry keys steps refer to. */
export const MCP_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';

const ms = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** The registry schema. */
export const registrySchema = {
  $id: 'urn:orchestrator-mcp:schemas:registry',
  title: 'orchestrator-mcp MCP registry',
  type: 'object',
  required: ['mcps'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    version: { type: 'string' },
    mcps: {
      type: 'object',
      propertyNames: { pattern: MCP_NAME_PATTERN, maxLength: 200 },
      additionalProperties: {
        type: 'object',
        required: ['endpoints'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', description: 'Display name.' },
          version: { type: 'string' },
          description: { type: 'string' },
          status: { enum: ['active', 'inactive'] },
          priority: { type: 'integer' },
          endpoints: {
            type: 'object',
            minProperties: 1,
            additionalProperties: {
              type: 'object',
              required: ['protocol'],
              additionalProperties: false,
              properties: {
                protocol: { enum: ['http', 'streamable-http', 'stdio'] },
                url: { type: 'string', minLength: 1 },
                headers: stringMap,
                command: { type: 'string', minLength: 1 },
                args: { type: 'array', items: { type: 'string' } },
                env: stringMap,
                cwd: { type: 'string', minLength: 1 },
              },
            },
          },
          capabilities: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          tools: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          timeout: ms,
          maxConcurrency: { type: 'integer', minimum: 1, maximum: 100_000 },
          circuitBreaker: {
            type: 'object',
            additionalProperties: false,
            properties: {
              failureThreshold: { type: 'integer', minimum: 1, maximum: 10_000 },
              resetTimeout: ms,
            },
          },
          healthCheck: {
            type: 'object',
            additionalProperties: false,
            properties: {
              enabled: { type: 'boolean' },
              endpoint: { type: 'string', pattern: '^/' },
              interval: ms,
              timeout: ms,
            },
          },
          metadata: { type: 'object' },
        },
      },
    },
  },
} as const;
