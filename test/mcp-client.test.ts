/**
 * The MCP client's library surface on a real server: interceptors,
 * `maxConcurrency`, custom discovery methods merged under the file, and the
 * discovery metrics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MCPClient,
  MCPDiscoveryService,
  type McpRequest,
  type McpResponse,
  registryFromObject,
} from '../src/index.js';
import { startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually } from './support/eventually.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<TestHttpServer> {
  const s = await startV2HttpServer();
  cleanups.push(() => s.close());
  return s;
}

function client(url: string, extra: Record<string, unknown> = {}): MCPClient {
  const [definition] = registryFromObject({
    mcps: { tools: { endpoints: { primary: { protocol: 'http', url } }, ...extra } },
  });
  const c = new MCPClient({ definition: definition! });
  cleanups.push(() => c.close());
  return c;
}

describe('MCPClient', () => {
  it('runs request interceptors (which may change the request) and response interceptors', async () => {
    const s = await server();
    const c = client(s.url);
    const seen: McpRequest[] = [];
    const answered: McpResponse[] = [];
    c.addRequestInterceptor(async (request) => {
      seen.push(structuredClone(request));
    });
    c.addRequestInterceptor((request) => ({
      ...request,
      arguments: { text: `${String(request.arguments.text)}!` },
    }));
    c.addResponseInterceptor(async (response) => {
      answered.push(response);
    });
    expect(await c.callTool('echo', { text: 'hi' }, { meta: { idempotencyKey: 'k' } })).toMatchObject({
      text: 'hi!',
    });
    await c.callTool('fail', {}).catch(() => undefined);
    expect(seen[0]).toEqual({
      mcp: 'tools',
      tool: 'echo',
      arguments: { text: 'hi' },
      meta: { idempotencyKey: 'k' },
    });
    expect(answered.map((r) => [r.tool, r.outcome, r.endpoint])).toEqual([
      ['echo', 'success', 'primary'],
      ['fail', 'tool_error', 'primary'],
    ]);
    expect(answered[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(answered[1]!.error?.code).toBe('ORCH_TOOL_ERROR');
  });

  it('keeps at most maxConcurrency calls in flight to one MCP', async () => {
    const s = await server();
    const c = client(s.url, { maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, () => c.callTool('slow', { ms: 50 })));
    let inFlight = 0;
    let peak = 0;
    for (const e of s.log.filter((x) => x.tool === 'slow')) {
      inFlight += e.event === 'call' ? 1 : -1;
      peak = Math.max(peak, inFlight);
    }
    expect(s.log.filter((x) => x.tool === 'slow' && x.event === 'done')).toHaveLength(6);
    expect(peak).toBe(2);
  });

  it('refuses calls to an inactive MCP without a request', async () => {
    const s = await server();
    const c = client(s.url, { status: 'inactive' });
    await expect(c.callTool('echo', { text: 'x' })).rejects.toMatchObject({
      code: 'ORCH_MCP_UNAVAILABLE',
      retryable: false,
    });
    expect(s.requests).toHaveLength(0);
  });
});

describe('MCPDiscoveryService with a custom method', () => {
  it('merges a custom method under the file, records each source, and counts in getMetrics', async () => {
    const s = await server();
    const dir = mkdtempSync(join(tmpdir(), 'orch-custom-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'mcp-registry.json');
    writeFileSync(
      path,
      JSON.stringify({
        mcps: { shared: { name: 'From file', endpoints: { primary: { protocol: 'http', url: s.url } } } },
      }),
    );
    let entries: Record<string, unknown> = {
      shared: { name: 'From custom', endpoints: { primary: { protocol: 'http', url: s.url } } },
      extra: { capabilities: ['x'], endpoints: { primary: { protocol: 'http', url: s.url } } },
    };
    let notify: () => void = () => undefined;
    const d = new MCPDiscoveryService({ registryPath: path, pool: { healthChecks: false } });
    cleanups.push(() => d.close());
    await d.addDiscoveryMethod({
      name: 'inventory',
      discoverMcps: async () => entries as never,
      watch(onChange) {
        notify = onChange;
        return () => undefined;
      },
    });
    await d.initialize();
    expect(d.getMcps().map((m) => [m.name, m.displayName, m.source])).toEqual([
      ['extra', 'extra', 'inventory'],
      ['shared', 'From file', 'file'],
    ]);
    expect(d.getMcpsByCapability('x').map((m) => m.name)).toEqual(['extra']);
    entries = {};
    notify();
    await eventually(() => expect(d.getMcps().map((m) => m.name)).toEqual(['shared']));
    expect(d.getMetrics()).toMatchObject({
      totalMcps: 1,
      activeMcps: 1,
      bySource: { file: 1 },
      openCircuits: 0,
    });
    await expect(d.addDiscoveryMethod({ name: 'inventory', discoverMcps: () => ({}) })).rejects.toMatchObject(
      { code: 'ORCH_BAD_REQUEST' },
    );
  });
});
