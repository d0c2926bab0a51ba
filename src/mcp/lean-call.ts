/**
 * The hot path of `tools/call` over Streamable HTTP, written on undici
 * instead of the SDK. The SDK negotiates the protocol era and the session
 * (and does everything rare); then each call is one pooled POST built
 * exactly as the SDK builds it. Measured on this machine, the SDK client
 * spends 1.1–2 ms of CPU per call, this path 0.25–0.4 ms
 * (docs/decisions/0004-lean-tools-call.md). The interop tests run every
 * call through this path, against servers of both SDK generations.
 */
import type { Dispatcher } from 'undici';
import { ErrorCode } from '../engine/index.js';
import type { WireAnswer } from './endpoint-connection.js';
import { type CallContext, httpStatusError, type JsonRpcErrorObject, McpCallError } from './mcp-errors.js';
import { encodeHeaderValue, paramHeaders } from './param-headers.js';
import type { ToolResultLike } from './result-mapping.js';
import { readSse } from './sse-reader.js';

/** What the SDK negotiated, which every lean request must carry. */
export interface NegotiatedSession {
  era: 'modern' | 'legacy';
  protocolVersion: string;
  /** Legacy servers with sessions only. */
  sessionId?: string;
  /** The modern per-request `_meta` envelope (protocol version, client info, capabilities). */
  envelope: Record<string, unknown>;
}

/** The legacy server forgot the session (HTTP 404): re-initialise and try once more. */
export class SessionExpiredError extends Error {
  constructor() {
    super('the MCP session expired');
    this.name = 'SessionExpiredError';
  }
}

/** Headers of a request on a negotiated session. */
export function sessionHeaders(
  session: NegotiatedSession,
  base: Record<string, string>,
  method: string,
  name?: string,
): Record<string, string> {
  const headers: Record<string, string> = {
    ...base,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': session.protocolVersion,
  };
  if (session.era === 'modern') {
    headers['mcp-method'] = method;
    if (name !== undefined) headers['mcp-name'] = encodeHeaderValue(name);
  }
  if (session.sessionId) headers['mcp-session-id'] = session.sessionId;
  return headers;
}

/** Headers of `tools/call` per session and tool, built once: they change only with the session. */
const callHeadersCache = new WeakMap<NegotiatedSession, Map<string, Record<string, string>>>();

function callHeaders(session: NegotiatedSession, base: Record<string, string>, name: string) {
  let byTool = callHeadersCache.get(session);
  if (!byTool) {
    byTool = new Map();
    callHeadersCache.set(session, byTool);
  }
  let headers = byTool.get(name);
  if (!headers) {
    headers = sessionHeaders(session, base, 'tools/call', name);
    byTool.set(name, headers);
  }
  return headers;
}

/** Options of {@link leanToolsCall}. */
export interface LeanCallOptions {
  dispatcher: Dispatcher;
  path: string;
  baseHeaders: Record<string, string>;
  session: NegotiatedSession;
  id: string;
  name: string;
  args: Record<string, unknown>;
  meta: Record<string, unknown>;
  signal: AbortSignal;
  context: CallContext;
  /** The tool's inputSchema, for SEP-2243 `Mcp-Param-*` headers (2026 era). */
  toolSchema?: Record<string, unknown> | undefined;
  /** Upper bound on the body; a larger answer is refused (32 MiB). */
  maxBodyBytes?: number;
}

/** One `tools/call` POST; resolves with what the server answered, rejects on transport failure. */
export async function leanToolsCall(options: LeanCallOptions): Promise<WireAnswer> {
  const { session } = options;
  const meta = session.era === 'modern' ? { ...session.envelope, ...options.meta } : options.meta;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: options.id,
    method: 'tools/call',
    params: { name: options.name, arguments: options.args, _meta: meta },
  });
  const headers = callHeaders(session, options.baseHeaders, options.name);
  const params =
    session.era === 'modern' && options.toolSchema
      ? paramHeaders(options.toolSchema, options.args)
      : undefined;
  const response = await options.dispatcher.request({
    path: options.path,
    method: 'POST',
    headers: params && Object.keys(params).length > 0 ? { ...headers, ...params } : headers,
    body,
    signal: options.signal,
  });
  const type = String(response.headers['content-type'] ?? '');
  if (response.statusCode === 404 && session.era === 'legacy' && session.sessionId) {
    await response.body.dump();
    throw new SessionExpiredError();
  }
  if (response.statusCode >= 300) {
    const text = await readText(response.body, 64 * 1024);
    // A modern server answers protocol problems as 400 with a JSON-RPC error body.
    const rpc = response.statusCode === 400 ? parseJsonRpcError(text) : undefined;
    if (rpc) return { kind: 'error', error: rpc };
    throw httpStatusError(response.statusCode, options.context, text);
  }
  if (type.startsWith('text/event-stream')) return readSseAnswer(response.body, options);
  const text = await readText(response.body, options.maxBodyBytes ?? 32 * 1024 * 1024);
  return toAnswer(parseJson(text, options.context), options);
}

/** Reads SSE events until the response to our request id arrives. */
async function readSseAnswer(
  body: Dispatcher.ResponseData['body'],
  options: LeanCallOptions,
): Promise<WireAnswer> {
  try {
    for await (const event of readSse(body)) {
      if (event.event !== 'message' || event.data === '') continue;
      const message = parseJson(event.data, options.context) as Record<string, unknown>;
      if (message.id !== options.id) {
        // A request from the server (elicitation, sampling) cannot be answered by an orchestrator.
        if (typeof message.method === 'string' && message.id !== undefined) {
          throw new McpCallError(
            ErrorCode.McpProtocol,
            `MCP '${options.context.mcp}' asked for client input (${message.method}), which the orchestrator cannot give`,
            { countsAgainstBreaker: false, retryable: false },
          );
        }
        continue;
      }
      return toAnswer(message, options);
    }
  } finally {
    // Leaving early (an error, or a late stream) must not keep the socket busy.
    body.destroy();
  }
  throw new McpCallError(
    ErrorCode.McpTransport,
    `MCP '${options.context.mcp}' closed the stream without an answer`,
    {
      countsAgainstBreaker: true,
    },
  );
}

function toAnswer(message: unknown, options: LeanCallOptions): WireAnswer {
  const m = (Array.isArray(message) ? message.find((x) => x?.id === options.id) : message) as
    | { result?: ToolResultLike & { resultType?: string }; error?: JsonRpcErrorObject }
    | undefined;
  if (m?.error) return { kind: 'error', error: m.error };
  const resultType = m?.result?.resultType;
  if (resultType !== undefined && resultType !== 'complete') {
    // e.g. input_required: the server wants a user's answer, and an orchestrator has no user to ask.
    throw new McpCallError(
      ErrorCode.McpProtocol,
      `MCP '${options.context.mcp}' answered '${resultType}' (it asks for client input, which the orchestrator cannot give)`,
      { countsAgainstBreaker: false, retryable: false },
    );
  }
  if (m?.result) return { kind: 'result', result: m.result };
  throw new McpCallError(
    ErrorCode.McpProtocol,
    `MCP '${options.context.mcp}' sent an answer without a result`,
    {
      countsAgainstBreaker: true,
    },
  );
}

function parseJson(text: string, context: CallContext): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new McpCallError(ErrorCode.McpProtocol, `MCP '${context.mcp}' sent a body that is not JSON`, {
      countsAgainstBreaker: true,
    });
  }
}

function parseJsonRpcError(text: string): JsonRpcErrorObject | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: JsonRpcErrorObject };
    return parsed?.error && typeof parsed.error.code === 'number' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/** The body as text, refused beyond `limit` bytes (read with events: cheaper than async iteration). */
function readText(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        reject(
          new McpCallError(ErrorCode.McpProtocol, `answer larger than ${limit} bytes`, {
            countsAgainstBreaker: false,
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () =>
      resolve(
        chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8'),
      ),
    );
    body.once('error', reject);
  });
}
