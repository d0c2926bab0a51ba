/**
 * Registration-time checks and compilation of a workflow definition: JSON
 * Schema (ajv), the step graph, expressions, and MCP lookups through the
 * {@link McpLookup} port. Every problem names the path of the offending field
 * and the step it belongs to.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { CallPolicy, CallTarget, CompiledStep, CompiledWorkflow } from './compiled-workflow.js';
import { buildDag } from './dag.js';
import type { BackoffDefinition, WorkflowDefinition } from './definition.js';
import { ErrorCode, OrchestratorError, type ValidationIssue, workflowInvalid } from './errors.js';
import {
  type Compiled,
  compileExpression,
  compileTemplate,
  constant,
  namedReferences,
} from './expressions.js';
import { canonicalJson, findTooDeep } from './json.js';
import type { McpLookup } from './ports.js';
import { ajvErrorsToIssues } from './schema-errors.js';
import { checkParamsTemplate } from './tool-input-schema.js';
import { workflowSchema } from './workflow-schema.js';

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Limits and defaults of compilation. */
export interface WorkflowCompilerOptions {
  /** `MAX_WORKFLOW_STEPS` (500). */
  maxSteps?: number;
  /** Deepest nesting of any value (32). */
  maxDepth?: number;
  /** Whole-workflow timeout when the definition has none, ms (`DEFAULT_TIMEOUT`, 300000). */
  defaultTimeoutMs?: number;
  /** Backoff when the step has none. */
  defaultBackoff?: Required<BackoffDefinition>;
  /** Retries of a compensation when it has none (3). */
  defaultCompensationRetries?: number;
}

const DEFAULTS = {
  maxSteps: 500,
  maxDepth: 32,
  defaultTimeoutMs: 300_000,
  defaultBackoff: { initialDelay: 200, maxDelay: 30_000 },
  defaultCompensationRetries: 3,
};

/** Validates and compiles workflow definitions. */
export class WorkflowCompiler {
  private readonly options: typeof DEFAULTS;
  private readonly validateDefinition: ValidateFunction;
  private readonly inputAjv: Ajv;

  constructor(options: WorkflowCompilerOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    this.validateDefinition = ajv.compile(workflowSchema(this.options.maxSteps));
    // User-written input schemas may carry annotations ajv does not know.
    this.inputAjv = addFormats(new Ajv({ allErrors: true, strict: false }));
  }

  /** The schema definitions are validated against, with this compiler's limits. */
  get schema() {
    return workflowSchema(this.options.maxSteps);
  }

  /**
   * Checks and compiles a definition. With a `lookup`, MCPs, tools and
   * capabilities are checked too (a restored workflow is compiled without).
   * Throws ORCH_WORKFLOW_INVALID with every problem found.
   */
  async compile(raw: unknown, lookup?: McpLookup): Promise<CompiledWorkflow> {
    const tooDeep = findTooDeep(raw, this.options.maxDepth);
    if (tooDeep !== undefined) {
      throw workflowInvalid([
        { path: tooDeep, message: `nests deeper than ${this.options.maxDepth} levels` },
      ]);
    }
    if (!this.validateDefinition(raw))
      throw workflowInvalid(ajvErrorsToIssues(this.validateDefinition.errors));
    const definition = raw as WorkflowDefinition;
    const issues: ValidationIssue[] = [];

    const dagResult = buildDag(definition.steps);
    if (!dagResult.ok) throw workflowInvalid(dagResult.issues);
    const dag = dagResult.dag;
    const names = definition.steps.map((s) => s.name);
    const known = new Set(names);

    const checkRefs = (
      compiled: Compiled<unknown>,
      at: string,
      stepName: string | undefined,
      allowed?: Set<string>,
    ) => {
      for (const ref of namedReferences(compiled.references)) {
        const path = compiled.referencePaths?.get(ref) ?? at;
        if (!known.has(ref)) {
          issues.push({ path, message: `${subject(stepName)} references unknown step '${ref}'` });
        } else if (allowed && !allowed.has(ref)) {
          issues.push({
            path,
            message: `${subject(stepName)} references step '${ref}', which is not among its dependencies (add it to dependsOn)`,
          });
        }
      }
    };
    const compileOrCollect = (result: ReturnType<typeof compileTemplate>): Compiled<unknown> | undefined => {
      if (result.ok) return result.value;
      issues.push(...result.issues);
      return undefined;
    };

    const steps: CompiledStep[] = [];
    for (const [i, step] of definition.steps.entries()) {
      const at = `steps[${i}]`;
      const ancestors = new Set([...dag.ancestors[i]!].map((a) => names[a]!));
      const target = await this.checkTarget(step, at, step.name, issues, lookup);
      const params = compileOrCollect(compileTemplate(step.params ?? {}, `${at}.params`));
      if (params) checkRefs(params, `${at}.params`, step.name, ancestors);
      let condition: Compiled<unknown> | undefined;
      if (typeof step.condition === 'string') {
        condition = compileOrCollect(compileExpression(step.condition, `${at}.condition`));
        if (condition) checkRefs(condition, `${at}.condition`, step.name, ancestors);
      } else if (step.condition === false) {
        condition = constant(false);
      }
      const policy = this.policy(step, step.retries ?? 0);
      let compensation: CompiledStep['compensation'];
      if (step.compensation) {
        const c = step.compensation;
        const cAt = `${at}.compensation`;
        const inherited = c.mcp === undefined && c.capability === undefined;
        const cTarget = await this.checkTarget(
          {
            mcp: inherited ? step.mcp : c.mcp,
            capability: inherited ? step.capability : c.capability,
            action: c.action,
            params: c.params,
          },
          cAt,
          `compensation of step '${step.name}'`,
          issues,
          lookup,
        );
        const cParams = compileOrCollect(compileTemplate(c.params ?? {}, `${cAt}.params`));
        if (cParams) checkRefs(cParams, `${cAt}.params`, `compensation of step '${step.name}'`);
        const cPolicy = this.policy(
          {
            ...c,
            ...((c.timeout ?? policy.timeoutMs) !== undefined
              ? { timeout: c.timeout ?? policy.timeoutMs }
              : {}),
          },
          c.retries ?? this.options.defaultCompensationRetries,
        );
        if (cTarget && cParams) compensation = { target: cTarget, params: cParams, policy: cPolicy };
      }
      if (!target || !params) continue;
      const compiled: CompiledStep = {
        index: i,
        name: step.name,
        target,
        params,
        policy,
        dependencies: dag.dependencies[i]!,
        dependents: dag.dependents[i]!,
      };
      if (condition) compiled.condition = condition;
      if (compensation) compiled.compensation = compensation;
      steps.push(compiled);
    }

    let output: Compiled<unknown> | undefined;
    if (definition.output !== undefined) {
      output = compileOrCollect(compileTemplate(definition.output, 'output'));
      if (output) checkRefs(output, 'output', undefined);
    }
    let validateInput: ValidateFunction | undefined;
    if (definition.input !== undefined) {
      try {
        validateInput = this.inputAjv.compile(definition.input);
      } catch (error) {
        issues.push({ path: 'input', message: `is not a valid JSON Schema: ${(error as Error).message}` });
      }
    }
    if (issues.length > 0) throw workflowInvalid(issues);

    const compiled: CompiledWorkflow = {
      name: definition.name,
      version: definition.version,
      definition,
      canonical: canonicalJson(definition),
      timeoutMs: definition.timeout ?? this.options.defaultTimeoutMs,
      steps,
      stepsByName: new Map(steps.map((s) => [s.name, s])),
      dag,
    };
    if (validateInput) compiled.validateInput = validateInput;
    if (output) compiled.output = output;
    return compiled;
  }

  /** Validates execution input against the workflow's `input` schema (ORCH_INPUT_INVALID). */
  validateInput(workflow: CompiledWorkflow, input: unknown): void {
    const tooDeep = findTooDeep(input, this.options.maxDepth, 'input');
    if (tooDeep !== undefined) {
      throw new OrchestratorError(
        ErrorCode.InputInvalid,
        `input nests deeper than ${this.options.maxDepth} levels`,
        {
          errors: [{ path: tooDeep, message: `nests deeper than ${this.options.maxDepth} levels` }],
        },
      );
    }
    const validate = workflow.validateInput;
    if (!validate || validate(input)) return;
    const errors = ajvErrorsToIssues(validate.errors, 'input');
    const first = errors[0];
    throw new OrchestratorError(
      ErrorCode.InputInvalid,
      `input of workflow '${workflow.name}' is invalid: ${first ? `${first.path}: ${first.message}` : 'rejected by its schema'}`,
      { errors },
    );
  }

  private policy(
    def: { timeout?: number; retries?: number; backoff?: BackoffDefinition },
    retries: number,
  ): CallPolicy {
    const initialDelayMs = def.backoff?.initialDelay ?? this.options.defaultBackoff.initialDelay;
    return {
      ...(def.timeout !== undefined ? { timeoutMs: def.timeout } : {}),
      retries,
      initialDelayMs,
      maxDelayMs: Math.max(initialDelayMs, def.backoff?.maxDelay ?? this.options.defaultBackoff.maxDelay),
    };
  }

  private async checkTarget(
    call: {
      mcp?: string | undefined;
      capability?: string | undefined;
      action: string;
      params?: Record<string, unknown> | undefined;
    },
    at: string,
    who: string,
    issues: ValidationIssue[],
    lookup: McpLookup | undefined,
  ): Promise<CallTarget | undefined> {
    const label = who.startsWith('compensation') ? who : `step '${who}'`;
    if (call.mcp !== undefined && call.capability !== undefined) {
      issues.push({
        path: `${at}.capability`,
        message: `${label} names both an mcp and a capability; use one`,
      });
      return undefined;
    }
    if (call.mcp === undefined && call.capability === undefined) {
      issues.push({ path: `${at}.mcp`, message: `${label} needs an mcp or a capability` });
      return undefined;
    }
    if (call.capability !== undefined) {
      if (lookup && !(await lookup.hasCapability(call.capability))) {
        issues.push({
          path: `${at}.capability`,
          message: `${label}: no MCP offers capability '${call.capability}'`,
        });
      }
      return { capability: call.capability, tool: call.action };
    }
    const mcp = call.mcp!;
    if (lookup) {
      const info = await lookup.getMcp(mcp);
      if (!info) {
        issues.push({ path: `${at}.mcp`, message: `${label} uses unknown MCP '${mcp}'` });
      } else if (info.tools) {
        const tool = info.tools.find((t) => t.name === call.action);
        if (!tool) {
          issues.push({
            path: `${at}.action`,
            message: `${label}: MCP '${mcp}' has no tool '${call.action}'`,
          });
        } else if (tool.inputSchema) {
          for (const issue of checkParamsTemplate(tool.inputSchema, call.params ?? {}, `${at}.params`)) {
            issues.push({ path: issue.path, message: `${label}: ${issue.message} (tool '${call.action}')` });
          }
        }
      }
    }
    return { mcp, tool: call.action };
  }
}

function subject(stepName: string | undefined): string {
  if (stepName === undefined) return 'output';
  return stepName.startsWith('compensation') ? stepName : `step '${stepName}'`;
}
