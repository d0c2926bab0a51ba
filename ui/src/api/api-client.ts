/**
 * The REST API of orchestrator-mcp, as the console calls it: the public
 * routes only (DESIGN.md, REST API), with the operator's key as a bearer
 * token when one was given. Errors arrive as {@link ApiError}s carrying the
 * problem document.
 */
import { ApiError } from './api-error.js';
import { loadApiKey, saveApiKey } from './api-key.js';
import { readEventStream } from './event-stream.js';
import { type ExecutionEvent, toExecutionEvent } from './execution-event.js';
import type {
  ExecutionDocument,
  ExecutionStatus,
  HealthCheckDocument,
  McpDocument,
  Page,
  ProblemDocument,
  WorkflowDetail,
  WorkflowSummary,
} from './types.js';

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Origin of the API: the page's own by default. */
  baseUrl?: string;
  /** Called whenever the API answers 401: the key is missing or was refused. */
  onUnauthorized?: () => void;
}

/** Filter and page of `GET /executions`. */
export interface ExecutionQuery {
  status?: ExecutionStatus | undefined;
  workflow?: string | undefined;
  limit?: number;
  cursor?: string | undefined;
}

/** What `GET /events` should carry. */
export interface ServerEventQuery {
  /** Execution events of this workflow only. */
  workflow?: string | undefined;
  topics?: readonly ('executions' | 'mcps')[];
}

/** Callbacks of {@link ApiClient.streamEvents}. */
export interface ServerEventHandlers {
  onOpen?(): void;
  onExecutionEvent?(event: ExecutionEvent): void;
  /** An MCP's health, breaker, tools or discovery changed. */
  onMcpEvent?(name: string, payload: { mcp: string }): void;
}

/** Calls the API; one per page load. */
export class ApiClient {
  readonly #baseUrl: string;
  readonly #onUnauthorized: () => void;
  #key: string | undefined = loadApiKey();

  constructor(options: ApiClientOptions = {}) {
    this.#baseUrl = options.baseUrl ?? '';
    this.#onUnauthorized = options.onUnauthorized ?? (() => undefined);
  }

  /** The key in use, if any. */
  get apiKey(): string | undefined {
    return this.#key;
  }

  /** Uses `key` from now on and keeps it for this tab (or forgets it). */
  setApiKey(key: string | undefined): void {
    this.#key = key;
    saveApiKey(key);
  }

  /** True when the API accepts `key` (or needs none), false when it answers 401. */
  async acceptsKey(key: string): Promise<boolean> {
    const response = await this.#fetch('/workflows', { headers: { authorization: `Bearer ${key}` } });
    if (response.status === 401) return false;
    if (!response.ok) throw await toApiError(response);
    return true;
  }

  listExecutions(query: ExecutionQuery = {}): Promise<Page<ExecutionDocument>> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined && value !== '') params.set(name, String(value));
    const search = params.toString() ? `?${params}` : '';
    return this.#json('GET', `/executions${search}`);
  }

  getExecution(id: string): Promise<ExecutionDocument> {
    return this.#json('GET', `/executions/${encodeURIComponent(id)}`);
  }

  cancelExecution(id: string, reason: string): Promise<ExecutionDocument> {
    return this.#json('POST', `/executions/${encodeURIComponent(id)}/cancel`, { body: { reason } });
  }

  startExecution(workflow: string, input: unknown): Promise<ExecutionDocument> {
    return this.#json('POST', `/workflows/${encodeURIComponent(workflow)}/executions`, { body: { input } });
  }

  listWorkflows(): Promise<Page<WorkflowSummary>> {
    return this.#json('GET', '/workflows');
  }

  /** The current definition, or `version` (one an execution ran on, possibly replaced since). */
  getWorkflow(name: string, version?: string): Promise<WorkflowDetail> {
    const query = version === undefined ? '' : `?version=${encodeURIComponent(version)}`;
    return this.#json('GET', `/workflows/${encodeURIComponent(name)}${query}`);
  }

  listMcps(): Promise<Page<McpDocument>> {
    return this.#json('GET', '/mcps');
  }

  getMcp(name: string): Promise<McpDocument> {
    return this.#json('GET', `/mcps/${encodeURIComponent(name)}`);
  }

  /** Checks the MCP now. Unhealthy is an answer too (503 with the same document). */
  checkMcpHealth(name: string): Promise<HealthCheckDocument> {
    return this.#json('GET', `/mcps/${encodeURIComponent(name)}/health`, { alsoOk: [503] });
  }

  resetCircuitBreaker(name: string): Promise<{ name: string; state: 'closed' }> {
    return this.#json('POST', `/mcps/${encodeURIComponent(name)}/circuit-breaker/reset`);
  }

  /**
   * Follows `GET /executions/:id/events` until the server ends the stream
   * (after `workflow_completed`) or `signal` aborts it. `onOpen` runs once
   * the stream is open: from then on, no event is missed.
   */
  async streamExecution(
    id: string,
    handlers: { onOpen?(): void; onEvent(event: ExecutionEvent): void },
    signal: AbortSignal,
  ): Promise<void> {
    const response = await this.#fetch(`/executions/${encodeURIComponent(id)}/events`, {
      headers: { accept: 'text/event-stream' },
      signal,
    });
    if (!response.ok || !response.body) throw await toApiError(response);
    handlers.onOpen?.();
    await readEventStream(response.body, ({ event, data }) => {
      const parsed = toExecutionEvent(event, data);
      if (parsed) handlers.onEvent(parsed);
    });
  }

  /**
   * Reads `GET /events` (every execution of the server, the MCP changes)
   * until it ends or `signal` aborts it. `onOpen` runs once it is open.
   */
  async streamEvents(
    query: ServerEventQuery,
    handlers: ServerEventHandlers,
    signal: AbortSignal,
  ): Promise<void> {
    const params = new URLSearchParams();
    if (query.workflow) params.set('workflow', query.workflow);
    if (query.topics) params.set('topics', query.topics.join(','));
    const search = params.toString();
    const response = await this.#fetch(`/events${search ? `?${search}` : ''}`, {
      headers: { accept: 'text/event-stream' },
      signal,
    });
    if (!response.ok || !response.body) throw await toApiError(response);
    handlers.onOpen?.();
    await readEventStream(response.body, ({ event, data }) => {
      const execution = toExecutionEvent(event, data);
      if (execution) handlers.onExecutionEvent?.(execution);
      else if (event.startsWith('mcp_') || event === 'circuit_breaker_state_change')
        handlers.onMcpEvent?.(event, JSON.parse(data) as { mcp: string });
    });
  }

  async #json<T>(
    method: string,
    path: string,
    options: { body?: unknown; alsoOk?: number[] } = {},
  ): Promise<T> {
    const response = await this.#fetch(path, {
      method,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    if (!response.ok && !options.alsoOk?.includes(response.status)) throw await toApiError(response);
    return (await response.json()) as T;
  }

  async #fetch(
    path: string,
    init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> },
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    if (this.#key !== undefined && headers.authorization === undefined)
      headers.authorization = `Bearer ${this.#key}`;
    let response: Response;
    try {
      response = await fetch(`${this.#baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError({ status: 0, detail: 'the server did not answer (is it running?)' });
    }
    // A key tried through acceptsKey is the prompt's business, not a reason to ask again.
    if (response.status === 401 && init.headers?.authorization === undefined) this.#onUnauthorized();
    return response;
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  const fallback: ProblemDocument = { status: response.status, detail: `HTTP ${response.status}` };
  try {
    const body = (await response.json()) as Partial<ProblemDocument>;
    return new ApiError({ ...fallback, ...body, status: response.status });
  } catch {
    return new ApiError(fallback);
  }
}
