/**
 * Classification of what can go wrong on a call to an MCP server, into the
 * engine's stable codes. Answers that came over the wire (a JSON-RPC error)
 * stay apart from local failures (transport, HTTP status, timeouts), and each
 * error says whether it counts against the endpoint's circuit breaker
 * (DESIGN.md, Resilience: transport errors, timeouts and HTTP 408/429/5xx do;
 * a tool's `isError` and invalid params do not).
 */
import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import {
  ErrorCode,
  isOrchestratorError,
  OrchestratorError,
  type OrchestratorErrorOptions,
} from '../engine/index.js';

/** Where a call went, for messages. */
export interface CallContext {
  mcp: string;
  endpoint: string;
  tool?: string;
}

/** A JSON-RPC error object as it arrives. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** A failed call to an MCP server, local or remote. */
export class McpCallError extends OrchestratorError {
  /** Whether this failure says the endpoint is unwell (it counts against its breaker). */
  readonly countsAgainstBreaker: boolean;
  readonly httpStatus: number | undefined;

  constructor(
    code: ConstructorParameters<typeof OrchestratorError>[0],
    message: string,
    options: OrchestratorErrorOptions & { countsAgainstBreaker: boolean; httpStatus?: number },
  ) {
    super(code, message, options);
    this.name = 'McpCallError';
    this.countsAgainstBreaker = options.countsAgainstBreaker;
    this.httpStatus = options.httpStatus;
  }
}

/** An error answer from the server itself (a JSON-RPC error response): it answered, so it is not unwell. */
export class McpRemoteError extends McpCallError {
  readonly rpcCode: number;
  readonly rpcData: unknown;

  constructor(error: JsonRpcErrorObject, context: CallContext) {
    const where = `MCP '${context.mcp}'${context.tool ? ` tool '${context.tool}'` : ''}`;
    const unknownTool =
      error.code === -32601 ||
      (error.code === -32602 && /\b(tool|unknown)\b.*\bnot found\b|unknown tool/i.test(error.message));
    const code = unknownTool
      ? ErrorCode.UnknownTool
      : error.code === -32602
        ? ErrorCode.InvalidParams
        : ErrorCode.McpProtocol;
    super(code, `${where} answered error ${error.code}: ${error.message}`, {
      countsAgainstBreaker: false,
      details: { mcp: context.mcp, rpcCode: error.code },
    });
    this.name = 'McpRemoteError';
    this.rpcCode = error.code;
    this.rpcData = error.data;
  }
}

/** Does this failure count against an endpoint's breaker? */
export function countsAgainstBreaker(error: unknown): boolean {
  if (error instanceof McpCallError) return error.countsAgainstBreaker;
  // Our own attempt timeout counts; a cancel or rollback does not.
  if (isOrchestratorError(error)) return error.code === ErrorCode.StepTimeout;
  return true;
}

/** Maps an HTTP status that is not a success to an error. */
export function httpStatusError(status: number, context: CallContext, detail = ''): McpCallError {
  const where = `MCP '${context.mcp}' endpoint '${context.endpoint}'`;
  const suffix = detail ? `: ${detail.slice(0, 200)}` : '';
  if (status === 401 || status === 403) {
    return new McpCallError(
      ErrorCode.McpUnauthorized,
      `${where} refused the credentials (HTTP ${status})${suffix}`,
      {
        countsAgainstBreaker: false,
        httpStatus: status,
      },
    );
  }
  // Only an unwell server counts against its breaker; every failure is retried but those
  // DESIGN.md names (invalid params, unknown tool, inactive MCP).
  const unwell = status === 408 || status === 429 || status >= 500;
  return new McpCallError(ErrorCode.McpTransport, `${where} answered HTTP ${status}${suffix}`, {
    countsAgainstBreaker: unwell,
    httpStatus: status,
  });
}

/**
 * Turns anything thrown while talking to an endpoint into an error with a
 * stable code. `signal` is the call's: when it aborted, its reason wins (a
 * timeout or a cancel), whatever the transport made of the abort.
 */
export function classifyError(error: unknown, context: CallContext, signal?: AbortSignal): OrchestratorError {
  if (signal?.aborted) {
    if (isOrchestratorError(signal.reason)) return signal.reason;
    const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
    return new OrchestratorError(ErrorCode.Cancelled, `call cancelled: ${why}`, { cause: signal.reason });
  }
  if (error instanceof OrchestratorError) return error;
  if (error instanceof SdkHttpError) return httpStatusError(error.data?.status ?? 0, context, error.message);
  if (error instanceof ProtocolError) {
    return new McpRemoteError({ code: error.code, message: error.message, data: error.data }, context);
  }
  const where = `MCP '${context.mcp}' endpoint '${context.endpoint}'`;
  if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
    return new McpCallError(ErrorCode.StepTimeout, `${where} did not answer in time: ${error.message}`, {
      countsAgainstBreaker: true,
      cause: error,
    });
  }
  const message = describe(error);
  return new McpCallError(ErrorCode.McpTransport, `${where} is unreachable: ${message}`, {
    countsAgainstBreaker: true,
    cause: error,
  });
}

/** The most telling message of an error and its causes (`fetch failed` says little; ECONNREFUSED says more). */
function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { message?: string; code?: string; cause?: unknown };
    const text = [e.code, e.message].filter(Boolean).join(' ');
    if (text && !parts.includes(text)) parts.push(text);
    current = e.cause;
  }
  return parts.join(': ') || String(error);
}
