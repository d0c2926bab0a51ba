/**
 * Resilience against real MCP servers: retries on HTTP 500, the circuit
 * breaker's whole life (open, fail fast without traffic, half-open, close,
 * manual reset), failover to the next endpoint, a legacy session the server
 * forgot, a stdio server killed mid-run, health going down and up, and a
 * changed tool list.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BreakerChangeEvent, McpHealthEvent } from '../src/index.js';
import { startV1HttpServer, startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually, nextEvent } from './support/eventually.js';
import { createMcpHarness, type McpHarness, readToolLog, stdioEndpoint } from './support/mcp-harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function v2(): Promise<TestHttpServer> {
  const server = await startV2HttpServer();
  cleanups.push(() => server.close());
  return server;
}

async function harness(registry: unknown, pool = {}): Promise<McpHarness> {
  const h = await createMcpHarness(registry, { pool });
  cleanups.push(() => h.close());
  return h;
}

const echoFlow = (mcp: string, extra: Record<string, unknown> = {}) => ({
  name: `echo_${mcp}`,
  version: '1',
  steps: [{ name: 'say', mcp, action: 'echo', params: { text: 'hello' }, ...extra }],
});

describe('retries', () => {
  it('retries a step through HTTP 500s until the server answers', async () => {
    const server = await v2();
    const h = await harness({
      mcps: { a: { endpoints: { primary: { protocol: 'http', url: server.url } } } },
    });
    await h.engine.registerWorkflow(
      echoFlow('a', { retries: 2, backoff: { initialDelay: 1, maxDelay: 10 } }),
    );
    server.failNext(2, 500);
    const doc = await h.engine.executeWorkflow('echo_a', {});
    expect(doc.steps.say).toMatchObject({ status: 'completed', attempts: 3, result: { text: 'hello' } });
    expect(server.requests.filter((r) => r === 'tools/call')).toHaveLength(3);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, fails fast without traffic, half-opens after resetTimeout, closes on success', async () => {
    const server = await v2();
    const h = await harness({
      mcps: {
        a: {
          endpoints: { primary: { protocol: 'http', url: server.url } },
          circuitBreaker: { failureThreshold: 3, resetTimeout: 60_000 },
        },
      },
    });
    await h.engine.registerWorkflow(echoFlow('a'));
    const changes: BreakerChangeEvent[] = [];
    h.discovery.on('circuit_breaker_state_change', (e) => changes.push(e));
    // Only Date is faked: sockets and timers stay real, the breaker's clock moves when told.
    vi.useFakeTimers({ toFake: ['Date'] });

    server.failNext(100, 503);
    for (let i = 0; i < 3; i++) {
      const doc = await h.engine.executeWorkflow('echo_a', {});
      expect(doc.steps.say!.error).toMatchObject({ code: 'ORCH_MCP_TRANSPORT' });
    }
    expect(h.discovery.getMcp('a')?.circuitBreaker).toMatchObject({
      state: 'open',
      failures: 3,
      openedAt: expect.any(String),
    });
    expect(changes.map((c) => [c.mcp, c.endpoint, c.previous, c.state])).toEqual([
      ['a', 'primary', 'closed', 'open'],
    ]);

    const before = server.requests.length;
    const refused = await h.engine.executeWorkflow('echo_a', {});
    expect(refused.steps.say!.error).toMatchObject({ code: 'ORCH_CIRCUIT_OPEN' });
    expect(server.requests.length).toBe(before);

    server.failNext(0);
    vi.advanceTimersByTime(60_000);
    const trial = await h.engine.executeWorkflow('echo_a', {});
    expect(trial.status).toBe('completed');
    expect(h.discovery.getMcp('a')?.circuitBreaker).toEqual({ state: 'closed', failures: 0 });
    expect(changes.map((c) => c.state)).toEqual(['open', 'half-open', 'closed']);
  });

  it('is closed by a manual reset', async () => {
    const server = await v2();
    const h = await harness({
      mcps: {
        a: {
          endpoints: { primary: { protocol: 'http', url: server.url } },
          circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 },
        },
      },
    });
    await h.engine.registerWorkflow(echoFlow('a'));
    server.failNext(1, 500);
    await h.engine.executeWorkflow('echo_a', {});
    expect(h.discovery.getMcp('a')?.circuitBreaker.state).toBe('open');
    const closed = nextEvent<BreakerChangeEvent>(
      h.discovery,
      'circuit_breaker_state_change',
      (e) => e.state === 'closed',
    );
    expect(h.discovery.resetCircuitBreaker('a')).toBe(true);
    expect(await closed).toMatchObject({ previous: 'open', state: 'closed' });
    expect((await h.engine.executeWorkflow('echo_a', {})).status).toBe('completed');
    expect(h.discovery.resetCircuitBreaker('nope')).toBe(false);
  });

  it('fails over to the next endpoint while the primary is open', async () => {
    const primary = await v2();
    const secondary = await v2();
    const h = await harness({
      mcps: {
        a: {
          endpoints: {
            primary: { protocol: 'http', url: primary.url },
            secondary: { protocol: 'http', url: secondary.url },
          },
          circuitBreaker: { failureThreshold: 2, resetTimeout: 600_000 },
        },
      },
    });
    await h.engine.registerWorkflow(echoFlow('a', { retries: 3, backoff: { initialDelay: 1, maxDelay: 5 } }));
    await primary.down();
    const doc = await h.engine.executeWorkflow('echo_a', {});
    expect(doc.steps.say).toMatchObject({ status: 'completed', attempts: 3 });
    expect(secondary.log.filter((e) => e.tool === 'echo' && e.event === 'done')).toHaveLength(1);
    const mcp = h.discovery.getMcp('a')!;
    expect(mcp.endpoints.map((e) => [e.name, e.circuitBreaker.state])).toEqual([
      ['primary', 'open'],
      ['secondary', 'closed'],
    ]);
    expect(mcp.circuitBreaker.state).toBe('open');
  });
});

describe('connections', () => {
  it('re-initialises a legacy session the server forgot (HTTP 404)', async () => {
    const server = await startV1HttpServer();
    cleanups.push(() => server.close());
    const h = await harness({
      mcps: { a: { endpoints: { primary: { protocol: 'http', url: server.url } } } },
    });
    await h.engine.registerWorkflow(echoFlow('a'));
    expect((await h.engine.executeWorkflow('echo_a', {})).status).toBe('completed');
    const initializes = server.requests.filter((r) => r === 'initialize').length;
    server.forgetSessions();
    const doc = await h.engine.executeWorkflow('echo_a', {});
    expect(doc.steps.say).toMatchObject({ status: 'completed', attempts: 1 });
    expect(server.requests.filter((r) => r === 'initialize').length).toBe(initializes + 1);
    expect(server.sessions()).toBe(1);
  });

  it('restarts a stdio server killed mid-run; the step retries onto the new process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-stdio-'));
    const logFile = join(dir, 'tools.log');
    const h = await harness({ mcps: { local: { endpoints: { primary: stdioEndpoint('v2', logFile) } } } });
    await h.engine.registerWorkflow({
      name: 'survive',
      version: '1',
      steps: [
        { name: 'before', mcp: 'local', action: 'whoami' },
        {
          name: 'nap',
          mcp: 'local',
          action: 'slow',
          params: { ms: 1500 },
          retries: 6,
          backoff: { initialDelay: 200, maxDelay: 1000 },
        },
        { name: 'after', mcp: 'local', action: 'whoami' },
      ],
    });
    const { execution } = await h.engine.startWorkflow('survive', {});
    await eventually(() => expect(readToolLog(logFile).some((e) => e.tool === 'slow')).toBe(true));
    const firstPid = readToolLog(logFile).find((e) => e.tool === 'whoami')!.pid;
    process.kill(firstPid, 'SIGKILL');
    const doc = await h.engine.waitForExecution(execution.id, 30_000);
    expect(doc?.status).toBe('completed');
    expect(doc?.steps.nap?.attempts).toBeGreaterThanOrEqual(2);
    const before = doc?.output as { before: { pid: number }; after: { pid: number; count: number } };
    expect(before.before.pid).toBe(firstPid);
    expect(before.after.pid).not.toBe(firstPid);
    // A fresh process: its call count started again.
    expect(before.after.count).toBe(1);
  });
});

describe('health', () => {
  it('goes unhealthy and healthy again with events, on the protocol probe', async () => {
    const server = await v2();
    const h = await harness({
      mcps: { a: { endpoints: { primary: { protocol: 'http', url: server.url } } } },
    });
    expect((await h.discovery.checkHealth('a'))?.status).toBe('healthy');
    const unhealthy = nextEvent<McpHealthEvent>(h.discovery, 'mcp_unhealthy');
    const changes: string[] = [];
    h.discovery.on('mcp_unhealthy', (e) => changes.push(e.mcp));
    await server.down();
    // Three checks asked for at once: one probe, one event.
    const checks = await Promise.all([1, 2, 3].map(() => h.discovery.checkHealth('a')));
    expect(checks.map((c) => c?.status)).toEqual(['unhealthy', 'unhealthy', 'unhealthy']);
    expect(changes).toEqual(['a']);
    expect((await unhealthy).health.error).toMatch(/^primary: /);
    const healthy = nextEvent<McpHealthEvent>(h.discovery, 'mcp_healthy');
    await server.up();
    expect((await h.discovery.checkHealth('a'))?.status).toBe('healthy');
    expect((await healthy).mcp).toBe('a');
    expect(h.engine.getMetrics().healthyMcpClients).toBe(1);
  });

  it('uses the plain GET of healthCheck.endpoint, and checks on its interval', async () => {
    const server = await v2();
    const h = await harness(
      {
        mcps: {
          a: {
            endpoints: { primary: { protocol: 'http', url: server.url } },
            healthCheck: { endpoint: '/health', interval: 50, timeout: 1000 },
          },
        },
      },
      { healthChecks: true },
    );
    await eventually(() => expect(h.discovery.getMcp('a')?.health.status).toBe('healthy'));
    server.healthStatus = 503;
    const event = await nextEvent<McpHealthEvent>(h.discovery, 'mcp_unhealthy');
    expect(event.health.error).toBe('primary: GET /health answered HTTP 503');
    // The plain GET needs no MCP session: the protocol was never spoken.
    expect(server.requests.filter((r) => r === 'server/discover')).toHaveLength(0);
  });
});

describe('tool list', () => {
  it('refreshes the cached tool list when the server announces a change', async () => {
    const server = await v2();
    const h = await harness({
      mcps: { a: { endpoints: { primary: { protocol: 'http', url: server.url } } } },
    });
    const client = h.discovery.pool.get('a')!;
    await client.listTools();
    const lists = () => server.requests.filter((r) => r === 'tools/list').length;
    const before = lists();
    await client.listTools();
    const changed = nextEvent(h.discovery, 'mcp_tools_changed');
    await client.callTool('change_tools', {});
    await changed;
    await client.listTools();
    expect(lists()).toBeGreaterThan(before);
  });
});

describe('capability routing', () => {
  it('routes by capability to the highest priority MCP that will take the call', async () => {
    const low = await v2();
    const high = await v2();
    const h = await harness({
      mcps: {
        low: {
          priority: 1,
          capabilities: ['echoing'],
          endpoints: { primary: { protocol: 'http', url: low.url } },
        },
        high: {
          priority: 5,
          capabilities: ['echoing'],
          endpoints: { primary: { protocol: 'http', url: high.url } },
          circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 },
        },
      },
    });
    await h.engine.registerWorkflow({
      name: 'cap',
      version: '1',
      steps: [{ name: 's', capability: 'echoing', action: 'echo', params: { text: 'x' } }],
    });
    expect(h.discovery.getMcpsByCapability('echoing').map((m) => m.name)).toEqual(['high', 'low']);
    await h.engine.executeWorkflow('cap', {});
    expect(high.log.filter((e) => e.event === 'done')).toHaveLength(1);
    high.failNext(1, 500);
    await h.engine.executeWorkflow('cap', {});
    // high's breaker is open now: the next call goes to low.
    expect((await h.engine.executeWorkflow('cap', {})).status).toBe('completed');
    expect(low.log.filter((e) => e.event === 'done')).toHaveLength(1);
    await expect(
      h.engine.registerWorkflow({
        name: 'nocap',
        version: '1',
        steps: [{ name: 's', capability: 'flying', action: 'echo' }],
      }),
    ).rejects.toMatchObject({
      errors: [{ path: 'steps[0].capability', message: "step 's': no MCP offers capability 'flying'" }],
    });
  });
});
