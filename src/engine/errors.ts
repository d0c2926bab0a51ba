/**
 * Errors with stable codes. Every error the orchestrator raises on its own
 * account is an {@link OrchestratorError}; the HTTP layer maps `code` to a
 * status, and the retry policy reads `retryable`. Errors that arrive over the
 * wire from an MCP server are wrapped by the MCP layer, never thrown raw.
 */

/** Stable error codes. Clients and dashboards may match on them. */
export const ErrorCode = {
  /** A malformed request (a bad cursor, a bad query value). */
  BadRequest: 'ORCH_BAD_REQUEST',
  WorkflowInvalid: 'ORCH_WORKFLOW_INVALID',
  /** The MCP registry (file or another discovery source) is invalid. */
  RegistryInvalid: 'ORCH_REGISTRY_INVALID',
  /** A discovery method could not read its source (DNS, the Kubernetes API, mDNS); its last good MCPs stay. */
  DiscoveryFailed: 'ORCH_DISCOVERY_FAILED',
  McpNotFound: 'ORCH_MCP_NOT_FOUND',
  WorkflowNotFound: 'ORCH_WORKFLOW_NOT_FOUND',
  WorkflowConflict: 'ORCH_WORKFLOW_CONFLICT',
  InputInvalid: 'ORCH_INPUT_INVALID',
  ExecutionNotFound: 'ORCH_EXECUTION_NOT_FOUND',
  ExecutionFinished: 'ORCH_EXECUTION_FINISHED',
  IdempotencyConflict: 'ORCH_IDEMPOTENCY_CONFLICT',
  QueueFull: 'ORCH_QUEUE_FULL',
  ShuttingDown: 'ORCH_SHUTTING_DOWN',
  StepTimeout: 'ORCH_STEP_TIMEOUT',
  StepFailed: 'ORCH_STEP_FAILED',
  WorkflowTimeout: 'ORCH_WORKFLOW_TIMEOUT',
  Cancelled: 'ORCH_CANCELLED',
  ExpressionError: 'ORCH_EXPRESSION_ERROR',
  /** The tool rejected the arguments (JSON-RPC invalid params): no retry can mend it. */
  InvalidParams: 'ORCH_INVALID_PARAMS',
  /** The MCP does not offer the tool: no retry can mend it. */
  UnknownTool: 'ORCH_UNKNOWN_TOOL',
  /** The MCP is unknown or registered with `status: inactive`: no retry can mend it. */
  McpUnavailable: 'ORCH_MCP_UNAVAILABLE',
  /** The tool answered with `isError: true`. */
  ToolError: 'ORCH_TOOL_ERROR',
  /** Transport failure, HTTP 408/429/5xx, a server that went away. */
  McpTransport: 'ORCH_MCP_TRANSPORT',
  /** The server answered with a JSON-RPC error other than invalid params. */
  McpProtocol: 'ORCH_MCP_PROTOCOL',
  /** The server refused our credentials (HTTP 401/403); retried, as a registry reload may bring new ones. */
  McpUnauthorized: 'ORCH_MCP_UNAUTHORIZED',
  CircuitOpen: 'ORCH_CIRCUIT_OPEN',
  StoreError: 'ORCH_STORE_ERROR',
  /** Another replica took the execution over (its lease ran out): this one stops writing it. */
  LeaseLost: 'ORCH_LEASE_LOST',
  Internal: 'ORCH_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes no retry can mend (DESIGN.md, Resilience). */
const NOT_RETRYABLE: ReadonlySet<string> = new Set<ErrorCode>([
  ErrorCode.InvalidParams,
  ErrorCode.UnknownTool,
  ErrorCode.McpUnavailable,
  ErrorCode.ExpressionError,
  ErrorCode.Cancelled,
  ErrorCode.WorkflowTimeout,
  // The execution could not record its progress: calling the tool again would act unrecorded.
  ErrorCode.StoreError,
  ErrorCode.LeaseLost,
]);

/** One validation problem, `path` from the root of what was sent (`steps[2].dependsOn[0]`). */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Options for {@link OrchestratorError}. */
export interface OrchestratorErrorOptions {
  cause?: unknown;
  /** Overrides the default retry classification of the code. */
  retryable?: boolean;
  /** Validation problems, for the `errors[]` of a problem document. */
  errors?: ValidationIssue[];
  /** Extra, non-secret facts worth showing (for example `retryAfterSeconds`). */
  details?: Record<string, unknown>;
}

/** Base class of every error the orchestrator raises, with a stable code. */
export class OrchestratorError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly errors: ValidationIssue[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: OrchestratorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OrchestratorError';
    this.code = code;
    this.retryable = options.retryable ?? !NOT_RETRYABLE.has(code);
    this.errors = options.errors;
    this.details = options.details;
  }

  /** A plain, JSON-safe description for stores, events and API documents. */
  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/** How an error is recorded in an execution document. */
export interface SerializedError {
  code: string;
  message: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

/** True for any {@link OrchestratorError}, or one with the given code. */
export function isOrchestratorError(error: unknown, code?: ErrorCode): error is OrchestratorError {
  return error instanceof OrchestratorError && (code === undefined || error.code === code);
}

/** Whether a retry could mend this failure. Unknown errors are assumed transient. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof OrchestratorError) return error.retryable;
  if (error !== null && typeof error === 'object' && 'retryable' in error) {
    return (error as { retryable: unknown }).retryable !== false;
  }
  return true;
}

/** A JSON-safe record of any thrown value. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof OrchestratorError) {
    const out: SerializedError = { code: error.code, message: error.message, retryable: error.retryable };
    if (error.details !== undefined) out.details = error.details;
    return out;
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : ErrorCode.Internal, message: error.message };
  }
  return { code: ErrorCode.Internal, message: String(error) };
}

/** Shorthand for the "definition is invalid" error with its issues. */
export function workflowInvalid(
  issues: ValidationIssue[],
  subject = 'workflow definition',
): OrchestratorError {
  const first = issues[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new OrchestratorError(ErrorCode.WorkflowInvalid, `invalid ${subject}: ${summary}${more}`, {
    errors: issues,
  });
}
