/**
 * What both transports ask of the official SDK client besides `tools/call`:
 * the whole tool list, and the protocol's own health probe.
 */
import type { Client } from '@modelcontextprotocol/client';
import type { ToolList } from './endpoint-connection.js';
import { type CallContext, classifyError } from './mcp-errors.js';

/** `tools/list`, every page, bypassing the SDK's cache (the MCP client keeps its own). */
export async function listAllTools(client: Client, signal?: AbortSignal): Promise<ToolList> {
  const list = await client.listTools(undefined, { ...(signal ? { signal } : {}), cacheMode: 'bypass' });
  const result: ToolList = {
    tools: list.tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      ...(t.inputSchema ? { inputSchema: t.inputSchema as Record<string, unknown> } : {}),
    })),
  };
  const ttl = (list as { ttlMs?: unknown }).ttlMs;
  if (typeof ttl === 'number') result.ttlMs = ttl;
  return result;
}

/** The protocol's health probe: `server/discover` in the 2026 era, `ping` in the 2025 one. */
export async function probeServer(client: Client, signal: AbortSignal): Promise<void> {
  if (client.getProtocolEra() === 'modern') await client.discover({ signal });
  else await client.ping({ signal });
}

/** What a connection built on the SDK client provides, and what it gets from here. */
export abstract class SdkBackedConnection {
  /** The connected SDK client (connecting first when needed). */
  protected abstract connected(signal?: AbortSignal): Promise<Client>;
  /** Where a call goes, for error messages. */
  protected abstract context(tool?: string): CallContext;

  async listTools(signal?: AbortSignal): Promise<ToolList> {
    try {
      return await listAllTools(await this.connected(signal), signal);
    } catch (error) {
      throw classifyError(error, this.context(), signal);
    }
  }

  async probe(signal: AbortSignal): Promise<void> {
    try {
      await probeServer(await this.connected(signal), signal);
    } catch (error) {
      throw classifyError(error, this.context(), signal);
    }
  }
}
