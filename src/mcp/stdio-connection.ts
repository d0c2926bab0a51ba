/**
 * A stdio endpoint: a child process speaking MCP over stdin/stdout, driven
 * by the official SDK client. When the child dies it is restarted with
 * exponential backoff (a crash loop must not spin); calls made while it is
 * down fail at once as transport errors, which the breaker and the step's
 * retries handle. Closing the connection ends the child (stdin closed, then
 * SIGTERM, then SIGKILL).
 */
import { Client, type PriorDiscovery, ProtocolError } from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { ErrorCode } from '../engine/index.js';
import { raceSignal } from './abort.js';
import type {
  CallToolOptions,
  ConnectionHooks,
  EndpointConnection,
  ProtocolEra,
  WireAnswer,
} from './endpoint-connection.js';
import { CLIENT_INFO } from './http-connection.js';
import type { StdioEndpointDefinition } from './mcp-definition.js';
import { type CallContext, classifyError, McpCallError } from './mcp-errors.js';
import type { ToolResultLike } from './result-mapping.js';
import { SdkBackedConnection } from './sdk-operations.js';

/** How long a child must stay up before its restart delay starts over, ms. */
const STABLE_MS = 10_000;

/** Options of {@link StdioConnection}. */
export interface StdioConnectionOptions {
  mcp: string;
  endpoint: StdioEndpointDefinition;
  hooks: ConnectionHooks;
  connectTimeoutMs: number;
  /** First restart delay, ms (200); doubles up to `maxRestartDelayMs`. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/** One stdio endpoint of an MCP. */
export class StdioConnection extends SdkBackedConnection implements EndpointConnection {
  private client: Client | undefined;
  private transport: StdioClientTransport | undefined;
  private connecting: Promise<Client> | undefined;
  private prior: PriorDiscovery | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private closed = false;
  private down: string | undefined;
  private currentEra: ProtocolEra | undefined;
  private version: string | undefined;

  constructor(private readonly options: StdioConnectionOptions) {
    super();
  }

  get era(): ProtocolEra | undefined {
    return this.currentEra;
  }

  get protocolVersion(): string | undefined {
    return this.version;
  }

  /** The child's pid while it runs (for diagnostics and tests). */
  get pid(): number | null {
    return this.transport?.pid ?? null;
  }

  async callTool(name: string, args: Record<string, unknown>, options: CallToolOptions): Promise<WireAnswer> {
    const context = this.context(name);
    try {
      const client = await this.connected(options.signal);
      // The SDK's own timeout sits a little beyond ours, so ours decides.
      const result = await client.callTool(
        { name, arguments: args, _meta: options.meta },
        { signal: options.signal, timeout: options.timeoutMs + 1000 },
      );
      return { kind: 'result', result: result as ToolResultLike };
    } catch (error) {
      if (error instanceof ProtocolError && !options.signal.aborted) {
        return { kind: 'error', error: { code: error.code, message: error.message, data: error.data } };
      }
      throw classifyError(error, context, options.signal);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    // A child being started would outlive us: wait for it, then end it.
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    this.transport = undefined;
    await client?.close().catch(() => undefined);
  }

  protected async connected(signal?: AbortSignal): Promise<Client> {
    if (this.client) return this.client;
    if (this.closed) throw new Error('connection closed');
    if (this.down) {
      throw new McpCallError(ErrorCode.McpTransport, this.down, { countsAgainstBreaker: true });
    }
    // One start serves every caller waiting for it; one caller giving up must not fail the others.
    this.connecting ??= this.start().finally(() => {
      this.connecting = undefined;
    });
    return raceSignal(this.connecting, signal);
  }

  private async start(): Promise<Client> {
    const { endpoint } = this.options;
    const transport = new StdioClientTransport({
      command: endpoint.command,
      args: endpoint.args,
      env: { ...getDefaultEnvironment(), ...endpoint.env },
      ...(endpoint.cwd ? { cwd: endpoint.cwd } : {}),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) this.options.hooks.onLog?.('info', `[${this.options.mcp}] ${line}`);
      }
    });
    // After the first handshake the era is known: restarts skip the probe (and its extra spawn).
    const client = new Client(CLIENT_INFO, {
      versionNegotiation: { mode: 'auto' },
      listChanged: { tools: { autoRefresh: false, onChanged: () => this.options.hooks.onToolsChanged() } },
    });
    try {
      await client.connect(transport, {
        timeout: this.options.connectTimeoutMs,
        ...(this.prior ? { prior: this.prior } : {}),
      });
    } catch (error) {
      await client.close().catch(() => undefined);
      this.scheduleRestart(`could not start (${(error as Error).message})`);
      throw error;
    }
    if (this.closed) {
      await client.close().catch(() => undefined);
      throw new Error('connection closed');
    }
    const discover = client.getDiscoverResult();
    this.prior =
      client.getProtocolEra() === 'modern' && discover ? { kind: 'modern', discover } : { kind: 'legacy' };
    this.currentEra = client.getProtocolEra() === 'modern' ? 'modern' : 'legacy';
    this.version = client.getNegotiatedProtocolVersion();
    const upSince = Date.now();
    client.onclose = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.transport = undefined;
      // Only a child that stayed up a while earns a quick restart; a crash loop keeps backing off.
      if (Date.now() - upSince > STABLE_MS) this.restarts = 0;
      if (!this.closed) this.scheduleRestart('exited');
    };
    this.client = client;
    this.transport = transport;
    return client;
  }

  private scheduleRestart(why: string): void {
    if (this.closed) return;
    const base = this.options.restartDelayMs ?? 200;
    const max = this.options.maxRestartDelayMs ?? 30_000;
    const delay = Math.min(max, base * 2 ** this.restarts) * (0.5 + Math.random() / 2);
    this.restarts += 1;
    this.down = `stdio server of MCP '${this.options.mcp}' ${why}; restarting in ${Math.round(delay)} ms`;
    this.options.hooks.onLog?.('warn', this.down);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.down = undefined;
      void this.connected().catch(() => undefined);
    }, delay);
    this.restartTimer.unref();
  }

  protected context(tool?: string): CallContext {
    return { mcp: this.options.mcp, endpoint: this.options.endpoint.name, ...(tool ? { tool } : {}) };
  }
}
