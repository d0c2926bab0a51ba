/** The workflow engine: definitions, scheduling, resilience, saga, and the ports it needs. */
export { abortReason, type CallOutcome, CallRunner } from './call-runner.js';
export type { Change, ChangeBus } from './change-bus.js';
export type {
  CallPolicy,
  CallTarget,
  CompiledCompensation,
  CompiledStep,
  CompiledWorkflow,
} from './compiled-workflow.js';
export { buildDag, type Dag, type DagNode, type DagResult } from './dag.js';
export type {
  BackoffDefinition,
  CompensationDefinition,
  JsonValue,
  StepDefinition,
  WorkflowDefinition,
} from './definition.js';
export {
  ErrorCode,
  isOrchestratorError,
  isRetryable,
  OrchestratorError,
  type OrchestratorErrorOptions,
  type SerializedError,
  serializeError,
  type ValidationIssue,
  workflowInvalid,
} from './errors.js';
export * from './events.js';
export {
  type AttemptDocument,
  type CompensationDocument,
  type ExecutionDocument,
  type StepDocument,
  toExecutionDocument,
} from './execution-document.js';
export { ExecutionRun } from './execution-run.js';
export {
  type AttemptOutcome,
  type AttemptRecord,
  type CompensationRecord,
  type CreateResult,
  type ExecutionPage,
  type ExecutionPatch,
  type ExecutionQuery,
  type ExecutionRecord,
  type ExecutionStore,
  type LeaseClaim,
  type LeaseRenewal,
  MAX_ATTEMPT_HISTORY,
  type StepRecord,
  type WorkflowRecord,
} from './execution-store.js';
export {
  type Compiled,
  compileExpression,
  compileTemplate,
  type ExpressionScope,
  isExpression,
} from './expressions.js';
export { uuidv7 } from './ids.js';
export { canonicalJson, findTooDeep } from './json.js';
export { parseWorkflowText } from './parse-workflow.js';
export {
  type Clock,
  type McpInfo,
  type McpLookup,
  type StepCaller,
  type StepCallRequest,
  systemClock,
} from './ports.js';
export { ajvErrorsToIssues, joinPath, pointerToPath } from './schema-errors.js';
export {
  CompensationStatus,
  EXECUTION_STATUSES,
  ExecutionStatus,
  isFinalExecutionStatus,
  STEP_STATUSES,
  StepStatus,
} from './statuses.js';
export { checkParamsTemplate, checkToolArguments } from './tool-input-schema.js';
export { WorkflowCompiler, type WorkflowCompilerOptions } from './workflow-compiler.js';
export {
  type EngineMetrics,
  type RegisterResult,
  type StartOptions,
  type StartResult,
  WorkflowEngine,
  type WorkflowEngineOptions,
  type WorkflowSummary,
} from './workflow-engine.js';
export { STEP_NAME_PATTERN, WORKFLOW_NAME_PATTERN, workflowSchema } from './workflow-schema.js';
