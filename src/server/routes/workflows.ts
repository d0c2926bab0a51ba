/** Workflow definitions: list, register (JSON or YAML), read, unregister. */
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCode, OrchestratorError, type WorkflowEngine } from '../../engine/index.js';
import {
  commonErrors,
  listOf,
  problemResponse,
  workflowBodySchema,
  workflowDetailSchema,
  workflowSummarySchema,
} from '../schemas.js';

/** Options of {@link workflowRoutes}. */
export interface WorkflowRoutesOptions {
  engine: WorkflowEngine;
  maxWorkflowSteps: number;
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

/** `/workflows` routes. */
export const workflowRoutes: FastifyPluginAsync<WorkflowRoutesOptions> = async (
  app,
  { engine, maxWorkflowSteps },
) => {
  app.get(
    '/workflows',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Registered workflows (current version of each name)',
        response: { 200: listOf(workflowSummarySchema), ...commonErrors },
      },
    },
    async () => ({ items: engine.listWorkflows() }),
  );

  app.post(
    '/workflows',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Register a workflow definition (JSON, or YAML with Content-Type: application/yaml)',
        description:
          '201 for a new version; 200 when the same name, version and content is registered already; 400 with errors[] for an invalid definition; 409 for the same name and version with other content.',
        body: workflowBodySchema(maxWorkflowSteps),
        response: {
          200: workflowDetailSchema,
          201: workflowDetailSchema,
          409: problemResponse,
          ...commonErrors,
        },
      },
      // The engine validates definitions itself, with paths and step names in every message;
      // the body schema above documents the format.
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const { workflow, created } = await engine.registerWorkflow(request.body);
      const detail = engine.getWorkflow(workflow.name);
      reply.code(created ? 201 : 200).header('location', `/workflows/${encodeURIComponent(workflow.name)}`);
      return detail;
    },
  );

  app.get<{ Params: { name: string }; Querystring: { version?: string } }>(
    '/workflows/:name',
    {
      schema: {
        tags: ['workflows'],
        summary: 'One workflow with its definition (the current version, or ?version= an earlier one)',
        params: nameParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            version: {
              type: 'string',
              minLength: 1,
              maxLength: 200,
              description: 'A version this name had, e.g. the one an execution ran on',
            },
          },
        },
        response: { 200: workflowDetailSchema, 404: problemResponse, ...commonErrors },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { version } = request.query;
      const workflow =
        version === undefined ? engine.getWorkflow(name) : await engine.getWorkflowVersion(name, version);
      if (!workflow) {
        if (version === undefined || !engine.getWorkflow(name)) throw notFound(name);
        throw new OrchestratorError(
          ErrorCode.WorkflowNotFound,
          `workflow '${name}' has no version '${version}'`,
        );
      }
      return workflow;
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/workflows/:name',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Unregister a workflow (running executions finish on their version)',
        params: nameParams,
        response: {
          204: { type: 'null', description: 'Unregistered' },
          404: problemResponse,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      if (!(await engine.unregisterWorkflow(request.params.name))) throw notFound(request.params.name);
      return reply.code(204).send();
    },
  );
};

function notFound(name: string): OrchestratorError {
  return new OrchestratorError(ErrorCode.WorkflowNotFound, `workflow '${name}' is not registered`);
}
