/**
 * A Streamable HTTP endpoint. The official SDK client connects (it probes
 * the protocol era with `server/discover` and falls back to the legacy
 * `initialize` handshake), lists tools and probes health; `tools/call` takes
 * the lean path of `lean-call.ts`. One undici Pool per endpoint carries both,
 * keep-alive, injected into the SDK transport as its `fetch`.
 */
import { setMaxListeners } from 'node:events';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Pool, fetch as undiciFetch } from 'undici';
import { VERSION } from '../version.js';
import { raceSignal } from './abort.js';
import type {
  CallToolOptions,
  ConnectionHooks,
  EndpointConnection,
  ProtocolEra,
  WireAnswer,
} from './endpoint-connection.js';
import { leanToolsCall, type NegotiatedSession, SessionExpiredError } from './lean-call.js';
import type { HttpEndpointDefinition } from './mcp-definition.js';
import { type CallContext, classifyError } from './mcp-errors.js';
import { SdkBackedConnection } from './sdk-operations.js';

/** Options of {@link HttpConnection}. */
export interface HttpConnectionOptions {
  mcp: string;
  endpoint: HttpEndpointDefinition;
  hooks: ConnectionHooks;
  /** Sockets per endpoint (the MCP's `maxConcurrency`). */
  connections: number;
  /** Limit of the connect handshake, ms. */
  connectTimeoutMs: number;
}

/** The modern envelope's client identity. */
export const CLIENT_INFO = { name: 'orchestrator-mcp', version: VERSION } as const;

/** One HTTP endpoint of an MCP. */
export class HttpConnection extends SdkBackedConnection implements EndpointConnection {
  private readonly pool: Pool;
  private readonly url: URL;
  private readonly path: string;
  private client: Client | undefined;
  private transport: StreamableHTTPClientTransport | undefined;
  private session: NegotiatedSession | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private seq = 0;

  constructor(private readonly options: HttpConnectionOptions) {
    super();
    this.url = new URL(options.endpoint.url);
    this.path = `${this.url.pathname}${this.url.search}`;
    // Calls are bounded by the MCP's maxConcurrency above this; the headroom is for the SDK's
    // long-lived subscriptions/listen stream and for probes, which must not take a call's socket.
    this.pool = new Pool(this.url.origin, {
      connections: Math.max(1, options.connections) + 4,
      pipelining: 1,
    });
  }

  get era(): ProtocolEra | undefined {
    return this.session?.era;
  }

  get protocolVersion(): string | undefined {
    return this.session?.protocolVersion;
  }

  async callTool(name: string, args: Record<string, unknown>, options: CallToolOptions): Promise<WireAnswer> {
    const context = this.context(name);
    try {
      try {
        return await this.leanCall(name, args, options, context);
      } catch (error) {
        if (!(error instanceof SessionExpiredError)) throw error;
        // The server forgot the legacy session: a fresh handshake, then the call once more.
        this.options.hooks.onLog?.('info', `MCP '${this.options.mcp}' session expired; re-initialising`);
        await this.reconnect(options.signal);
        return await this.leanCall(name, args, options, context);
      }
    } catch (error) {
      throw classifyError(error, context, options.signal);
    }
  }

  /** A plain GET of `path` against the url's origin (the registry's `healthCheck.endpoint`). */
  async getStatus(path: string, signal: AbortSignal): Promise<number> {
    const response = await this.pool.request({
      path,
      method: 'GET',
      headers: this.options.endpoint.headers,
      signal,
    });
    await response.body.dump();
    return response.statusCode;
  }

  /**
   * Ends the session (a legacy server is told with DELETE), then the sockets:
   * requests still in flight get a second to finish before they are cut.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    await this.disconnect();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    await Promise.race([this.pool.close().catch(() => undefined), grace]);
    await this.pool.destroy().catch(() => undefined);
  }

  private async leanCall(
    name: string,
    args: Record<string, unknown>,
    options: CallToolOptions,
    context: CallContext,
  ): Promise<WireAnswer> {
    await this.connected(options.signal);
    const session = this.session!;
    const id = `orch-${++this.seq}`;
    try {
      return await leanToolsCall({
        dispatcher: this.pool,
        path: this.path,
        baseHeaders: this.options.endpoint.headers,
        session,
        id,
        name,
        args,
        meta: options.meta,
        signal: options.signal,
        context,
        toolSchema: options.toolSchema,
      });
    } catch (error) {
      // A legacy server learns of an abort from notifications/cancelled; a modern one from the closed stream.
      if (options.signal.aborted && session.era === 'legacy')
        this.sendCancelled(session, id, options.signal.reason);
      throw error;
    }
  }

  private sendCancelled(session: NegotiatedSession, requestId: string, reason: unknown): void {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId, reason: reason instanceof Error ? reason.message : String(reason ?? 'cancelled') },
    });
    const headers = {
      ...this.options.endpoint.headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': session.protocolVersion,
      ...(session.sessionId ? { 'mcp-session-id': session.sessionId } : {}),
    };
    void this.pool
      .request({ path: this.path, method: 'POST', headers, body })
      .then((r) => r.body.dump())
      .catch(() => undefined);
  }

  /**
   * The connected client. One handshake serves every caller waiting for it,
   * bounded by the connect timeout alone: one caller giving up must not
   * fail the others.
   */
  protected async connected(signal?: AbortSignal): Promise<Client> {
    if (this.client && this.session) return this.client;
    if (this.closed) throw new Error('connection closed');
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    await raceSignal(this.connecting, signal);
    if (!this.client) throw new Error('connection closed');
    return this.client;
  }

  private async reconnect(signal?: AbortSignal): Promise<void> {
    await this.disconnect();
    await this.connected(signal);
  }

  private async disconnect(): Promise<void> {
    const { client, transport, session } = this;
    this.client = undefined;
    this.transport = undefined;
    this.session = undefined;
    // Servers keep legacy sessions until told; modern ones have none.
    if (session?.sessionId) await transport?.terminateSession().catch(() => undefined);
    await client?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const pool = this.pool;
    const transport = new StreamableHTTPClientTransport(this.url, {
      // The SDK shares one signal across a legacy session's requests; undici adds a listener per request.
      fetch: (input, init) => {
        if (init?.signal) setMaxListeners(Number.POSITIVE_INFINITY, init.signal);
        return undiciFetch(input as string, {
          ...(init as object),
          dispatcher: pool,
        }) as unknown as Promise<Response>;
      },
      requestInit: { headers: this.options.endpoint.headers },
    });
    const client = new Client(CLIENT_INFO, {
      versionNegotiation: { mode: 'auto' },
      listChanged: {
        tools: {
          autoRefresh: false,
          onChanged: () => this.options.hooks.onToolsChanged(),
        },
      },
    });
    await client.connect(transport, { timeout: this.options.connectTimeoutMs });
    const era = client.getProtocolEra() === 'modern' ? 'modern' : 'legacy';
    const protocolVersion = client.getNegotiatedProtocolVersion() ?? '2025-03-26';
    const session: NegotiatedSession = {
      era,
      protocolVersion,
      envelope: {
        'io.modelcontextprotocol/protocolVersion': protocolVersion,
        'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    };
    if (transport.sessionId) session.sessionId = transport.sessionId;
    if (this.closed) {
      await client.close().catch(() => undefined);
      throw new Error('connection closed');
    }
    this.client = client;
    this.transport = transport;
    this.session = session;
  }

  protected context(tool?: string): CallContext {
    return { mcp: this.options.mcp, endpoint: this.options.endpoint.name, ...(tool ? { tool } : {}) };
  }
}
