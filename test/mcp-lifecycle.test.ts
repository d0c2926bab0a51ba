/**
 * Connection lifecycle and protocol details on real servers: shared
 * connects, deadlines, what counts against a breaker, closing (children
 * end, replaced clients close), crash-loop backoff, SEP-2243 parameter
 * headers, the tool list cache, and secrets in URLs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MCPClient,
  MCPDiscoveryService,
  McpClientPool,
  type McpDefinition,
  registryFromObject,
} from '../src/index.js';
import { startV1HttpServer, startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually, nextEvent } from './support/eventually.js';
import { stdioEndpoint } from './support/mcp-harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function v2(): Promise<TestHttpServer> {
  const s = await startV2HttpServer();
  cleanups.push(() => s.close());
  return s;
}

function definition(entry: Record<string, unknown>): McpDefinition {
  return registryFromObject({ mcps: { tools: entry } })[0]!;
}

function client(entry: Record<string, unknown>): MCPClient {
  const c = new MCPClient({ definition: definition(entry) });
  cleanups.push(() => c.close());
  return c;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-life-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('connecting', () => {
  it('lets one caller give up on the shared handshake without failing the others', async () => {
    const s = await v2();
    const c = client({
      endpoints: { primary: { protocol: 'http', url: s.url } },
      circuitBreaker: { failureThreshold: 1 },
    });
    const impatient = new AbortController();
    const first = c.callTool('echo', { text: 'a' }, { signal: impatient.signal });
    const second = c.callTool('echo', { text: 'b' });
    impatient.abort(new Error('gave up'));
    await expect(first).rejects.toMatchObject({ code: 'ORCH_CANCELLED' });
    await expect(second).resolves.toMatchObject({ text: 'b' });
    expect(c.breakers()[0]!.breaker.state).toBe('closed');
  });
});

describe('deadlines and breakers', () => {
  it('ends an HTTP call at its timeout, tells the server, and counts it against the breaker', async () => {
    const s = await v2();
    const c = client({
      endpoints: { primary: { protocol: 'http', url: s.url } },
      circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 },
    });
    await expect(c.callTool('slow', { ms: 30_000 }, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'ORCH_STEP_TIMEOUT',
    });
    await eventually(() => expect(s.log.some((e) => e.tool === 'slow' && e.event === 'abort')).toBe(true));
    expect(c.breakers()[0]!.breaker.state).toBe('open');
  });

  it('does not count a cancel against the breaker', async () => {
    const s = await v2();
    const c = client({
      endpoints: { primary: { protocol: 'http', url: s.url } },
      circuitBreaker: { failureThreshold: 1 },
    });
    const cancel = new AbortController();
    const call = c.callTool('slow', { ms: 30_000 }, { signal: cancel.signal });
    await eventually(() => expect(s.log.some((e) => e.tool === 'slow' && e.event === 'call')).toBe(true));
    cancel.abort(new Error('user'));
    await expect(call).rejects.toMatchObject({ code: 'ORCH_CANCELLED' });
    expect(c.breakers()[0]!.breaker.state).toBe('closed');
  });
});

describe('closing', () => {
  it('ends stdio children on close, and those of MCPs a reload removed', async () => {
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    const entry = (log: string) => ({ endpoints: { primary: stdioEndpoint('v2', join(dir, log)) } });
    writeFileSync(path, JSON.stringify({ mcps: { stays: entry('a.log'), goes: entry('b.log') } }));
    const d = new MCPDiscoveryService({ registryPath: path, debounceMs: 20, pool: { healthChecks: false } });
    cleanups.push(() => d.close());
    await d.initialize();
    const pidOf = async (name: string) =>
      ((await d.pool.get(name)!.callTool('whoami', {})) as { pid: number }).pid;
    const [stays, goes] = [await pidOf('stays'), await pidOf('goes')];
    expect(alive(stays) && alive(goes)).toBe(true);

    const removed = nextEvent(d, 'mcp_removed');
    writeFileSync(path, JSON.stringify({ mcps: { stays: entry('a.log') } }));
    await removed;
    await eventually(() => expect(alive(goes)).toBe(false));
    expect(alive(stays)).toBe(true);

    await d.close();
    await eventually(() => expect(alive(stays)).toBe(false));
  });

  it('tells a legacy server its session ended', async () => {
    const s = await startV1HttpServer();
    cleanups.push(() => s.close());
    const c = new MCPClient({
      definition: definition({ endpoints: { primary: { protocol: 'http', url: s.url } } }),
    });
    await c.callTool('echo', { text: 'x' });
    expect(s.sessions()).toBe(1);
    await c.close();
    await eventually(() => expect(s.sessions()).toBe(0));
  });

  it('backs off further each time a stdio server dies right after starting', async () => {
    const dir = tempDir();
    const endpoint = stdioEndpoint('v2', join(dir, 'log'));
    const d = new MCPDiscoveryService({ registryPath: null, pool: { healthChecks: false } });
    cleanups.push(() => d.close());
    const delays: number[] = [];
    d.on('mcp_log', (e) => {
      const m = /restarting in (\d+) ms/.exec(e.message);
      if (m) delays.push(Number(m[1]));
    });
    await d.addDiscoveryMethod({
      name: 'test',
      discoverMcps: () => ({
        crashy: {
          endpoints: {
            primary: {
              ...endpoint,
              protocol: 'stdio' as const,
              env: { ...endpoint.env, EXIT_AFTER_MS: '300' },
            },
          },
        },
      }),
    });
    await d.initialize();
    await d.pool.get('crashy')!.callTool('whoami', {});
    await eventually(() => expect(delays.length).toBeGreaterThanOrEqual(3), 20_000);
    // Exponential with jitter in [0.5, 1]: the third wait is at least the first one's double.
    expect(delays[2]!).toBeGreaterThan(delays[0]!);
    expect(delays[2]!).toBeGreaterThanOrEqual(400);
  });
});

describe('protocol details', () => {
  it('sends SEP-2243 Mcp-Param headers, which a 2026-era server requires', async () => {
    const s = await v2();
    const c = client({ endpoints: { primary: { protocol: 'http', url: s.url } } });
    await c.listTools();
    await expect(c.callTool('regional', { region: 'eu-west' })).resolves.toBe('in eu-west');
    await expect(c.callTool('regional', { region: 'zürich ' })).resolves.toBe('in zürich ');
  });

  it('caches the tool list, and fetches it again once the server announces a change', async () => {
    const s = await startV1HttpServer();
    cleanups.push(() => s.close());
    const c = new MCPClient({
      definition: definition({ endpoints: { primary: { protocol: 'http', url: s.url } } }),
      toolsCacheMs: 600_000,
    });
    cleanups.push(() => c.close());
    const lists = () => s.requests.filter((r) => r === 'tools/list').length;
    await c.listTools();
    await c.listTools();
    await c.listTools();
    // A legacy server gives no ttlMs: the list is kept (toolsCacheMs) until it says it changed.
    expect(lists()).toBe(1);
    await c.callTool('change_tools', {});
    await eventually(async () => {
      await c.listTools();
      expect(lists()).toBe(2);
    });
    await c.listTools();
    expect(lists()).toBe(2);
  });
});

describe('registry changes', () => {
  it('keeps the client, its connection and its open breaker when only the status flips, and replaces it for other changes', async () => {
    const server = await v2();
    const pool = new McpClientPool({ healthChecks: false });
    cleanups.push(() => pool.close());
    const entry = (status: string, timeout = 30_000) => ({
      status,
      timeout,
      endpoints: { primary: { protocol: 'http', url: server.url } },
      circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 },
    });
    pool.apply([definition(entry('active'))]);
    const client = pool.get('tools')!;
    server.failNext(1, 503);
    await expect(client.callTool('echo', { text: 'x' })).rejects.toThrow();
    expect(client.breakers()[0]!.breaker.state).toBe('open');

    // A Kubernetes endpoint going unready, then ready again.
    expect(pool.apply([definition(entry('inactive'))])).toEqual({
      added: [],
      removed: [],
      updated: ['tools'],
    });
    expect(pool.get('tools')).toBe(client);
    expect(client.definition.status).toBe('inactive');
    await expect(client.callTool('echo', { text: 'x' })).rejects.toThrow(/inactive/);
    pool.apply([definition(entry('active'))]);
    expect(pool.get('tools')).toBe(client);
    expect(client.breakers()[0]!.breaker.state).toBe('open');

    // Anything else is a new client, with a fresh breaker.
    expect(pool.apply([definition(entry('active', 5000))]).updated).toEqual(['tools']);
    const replaced = pool.get('tools')!;
    expect(replaced).not.toBe(client);
    expect(replaced.breakers()[0]!.breaker.state).toBe('closed');
  });
});

describe('health checks', () => {
  it('makes one probe for checks asked for while one runs, and a new one after', async () => {
    const server = await v2();
    const c = client({ endpoints: { primary: { protocol: 'http', url: server.url } } });
    await c.listTools();
    const before = server.requests.length;
    const checks = await Promise.all(Array.from({ length: 5 }, () => c.checkHealth()));
    expect(checks.map((h) => h.status)).toEqual(Array(5).fill('healthy'));
    expect(new Set(checks).size).toBe(1);
    const probes = server.requests.length - before;
    expect(probes).toBeGreaterThan(0);
    await c.checkHealth();
    // The next check is a probe of its own, as many requests as the first.
    expect(server.requests.length - before).toBe(2 * probes);
  });
});

describe('secrets in URLs', () => {
  it('refuses credentials in a URL and masks query values everywhere they could show', async () => {
    expect(() =>
      definition({
        endpoints: { primary: { protocol: 'http', url: 'http://user:pa55word@127.0.0.1:9/mcp' } },
      }),
    ).toThrow(/must not carry credentials/);
    const c = client({
      endpoints: { primary: { protocol: 'http', url: 'http://127.0.0.1:9/mcp?api_key=sup3rs3cret' } },
    });
    const error = await c.callTool('echo', { text: 'x' }, { timeoutMs: 5000 }).catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain('sup3rs3cret');
    const health = await c.checkHealth();
    expect(health.status).toBe('unhealthy');
    expect(health.error).not.toContain('sup3rs3cret');
    const { toMcpDocument } = await import('../src/index.js');
    expect(toMcpDocument(c).endpoints[0]!.url).toBe('http://127.0.0.1:9/mcp?api_key=***');
  });
});
