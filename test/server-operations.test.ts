/**
 * The server as operators run it: API keys, a full queue, the workflows
 * directory hot reloaded, draining on shutdown, and configuration checks.
 */

import { execFile } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually } from './support/eventually.js';
import { ROOT } from './support/mcp-harness.js';
import { type ServerHarness, startServer } from './support/server-harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function mcpServer(): Promise<TestHttpServer> {
  const s = await startV2HttpServer();
  cleanups.push(() => s.close());
  return s;
}

async function server(url: string, options: Parameters<typeof startServer>[1] = {}): Promise<ServerHarness> {
  const h = await startServer(
    { mcps: { tools: { endpoints: { primary: { protocol: 'http', url } } } } },
    options,
  );
  cleanups.push(() => h.close());
  return h;
}

const sleepy =
  'name: sleepy\nversion: "1"\nsteps:\n  - name: nap\n    mcp: tools\n    action: slow\n    params: { ms: $input.ms }\n';

describe('API keys', () => {
  it('requires a bearer key everywhere but the probes and metrics', async () => {
    const mcp = await mcpServer();
    const key = 'k-0123456789abcdef-secret';
    const h = await server(mcp.url, { env: { API_KEYS: `other-key-0000000000,${key}` } });
    const anonymous = await fetch(`${h.url}/workflows`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await anonymous.json()).toMatchObject({ status: 401, code: 'ORCH_UNAUTHORIZED' });
    expect(
      (await fetch(`${h.url}/workflows`, { headers: { authorization: 'Bearer wrong-key-0000000000' } }))
        .status,
    ).toBe(401);
    expect((await fetch(`${h.url}/workflows`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${h.url}/docs/json`)).status).toBe(401);
    for (const open of ['/health', '/ready', '/metrics'])
      expect((await fetch(`${h.url}${open}`)).status).toBe(200);
    // The key never reaches the logs.
    expect(JSON.stringify(h.logs)).not.toContain(key);
  });
});

describe('limits', () => {
  it('answers 429 with Retry-After when the queue is full', async () => {
    const mcp = await mcpServer();
    const h = await server(mcp.url, {
      env: { MAX_CONCURRENT_WORKFLOWS: '1', MAX_QUEUED_WORKFLOWS: '1' },
      workflows: { 'sleepy.yaml': sleepy },
    });
    const start = () => h.json('POST', '/workflows/sleepy/executions', { body: { input: { ms: 60_000 } } });
    expect((await start()).body).toMatchObject({ status: 'running' });
    expect((await start()).body).toMatchObject({ status: 'queued' });
    const full = await start();
    expect(full).toMatchObject({
      status: 429,
      body: { code: 'ORCH_QUEUE_FULL', retryAfterSeconds: expect.any(Number) },
    });
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    for (const e of (await h.json<{ items: { id: string }[] }>('GET', '/executions?workflow=sleepy')).body
      .items) {
      await h.json('POST', `/executions/${e.id}/cancel`, { body: {} });
    }
  });
});

describe('WORKFLOWS_DIR', () => {
  it('registers files at start and on change, keeps the last good version of a broken file, unregisters deleted ones', async () => {
    const mcp = await mcpServer();
    const h = await server(mcp.url, { workflows: { 'sleepy.yaml': sleepy, 'broken.yaml': 'name: [' } });
    expect(
      (await h.json<{ items: { name: string }[] }>('GET', '/workflows')).body.items.map((w) => w.name),
    ).toEqual(['sleepy']);
    expect(h.logs.some((l) => l.msg === 'workflow file rejected' && l.file === 'broken.yaml')).toBe(true);

    const file = join(h.workflowsDir, 'sleepy.yaml');
    // A running execution keeps its version while the file moves on.
    const running = await h.json<{ id: string }>('POST', '/workflows/sleepy/executions', {
      body: { input: { ms: 500 } },
    });
    writeFileSync(file, sleepy.replace('version: "1"', 'version: "2"').replace('ms: $input.ms', 'ms: 1'));

    await eventually(async () =>
      expect((await h.json('GET', '/workflows/sleepy')).body).toMatchObject({ version: '2' }),
    );
    await eventually(async () =>
      expect((await h.json('GET', `/executions/${running.body.id}`)).body).toMatchObject({
        status: 'completed',
        workflow: { version: '1' },
      }),
    );

    // The same version with other content is refused, and version 2 stays.
    writeFileSync(file, sleepy.replace('version: "1"', 'version: "2"').replace('ms: $input.ms', 'ms: 2'));
    await eventually(() =>
      expect(
        h.logs.some(
          (l) => l.msg === 'workflow file rejected' && String(l.error).includes('bump the version'),
        ),
      ).toBe(true),
    );
    expect((await h.json('GET', '/workflows/sleepy')).body).toMatchObject({
      version: '2',
      definition: { steps: [{ params: { ms: 1 } }] },
    });

    unlinkSync(file);
    await eventually(async () => expect((await h.json('GET', '/workflows/sleepy')).status).toBe(404));
  });
});

describe('shutdown', () => {
  it('turns /ready to 503, refuses new executions, lets running ones finish, then stops', async () => {
    const mcp = await mcpServer();
    const h = await startServer(
      { mcps: { tools: { endpoints: { primary: { protocol: 'http', url: mcp.url } } } } },
      { workflows: { 'sleepy.yaml': sleepy } },
    );
    const running = await h.json<{ id: string }>('POST', '/workflows/sleepy/executions', {
      body: { input: { ms: 800 } },
    });
    const stopping = h.orchestrator.shutdown();
    expect((await h.json('GET', '/ready')).body).toMatchObject({
      status: 503,
      code: 'ORCH_NOT_READY',
      state: 'draining',
    });
    expect(
      (await h.json('POST', '/workflows/sleepy/executions', { body: { input: { ms: 1 } } })).body,
    ).toMatchObject({
      status: 503,
      code: 'ORCH_SHUTTING_DOWN',
    });
    expect((await h.json('GET', `/executions/${running.body.id}`)).body).toMatchObject({ status: 'running' });
    expect(await stopping).toBe(true);
    expect(h.orchestrator.engine.getMetrics()).toMatchObject({ completedWorkflows: 1, activeWorkflows: 0 });
    await h.close();
  });
});

describe('server errors', () => {
  it('answers 500 with a problem that leaks nothing when the store fails, and logs the cause', async () => {
    const mcp = await mcpServer();
    const h = await server(mcp.url);
    // Pull the store out from under the engine, as a failed disk would.
    await (h.orchestrator.engine as unknown as { store: { close(): Promise<void> } }).store.close();
    const failed = await h.json<Record<string, unknown>>('GET', '/executions');
    expect(failed).toMatchObject({
      status: 500,
      body: { status: 500, code: 'ORCH_INTERNAL', detail: 'the server failed to handle this request' },
    });
    expect(JSON.stringify(failed.body)).not.toMatch(/database|sqlite|stack|\.ts/i);
    expect(h.logs.some((l) => l.level === 50 && l.msg === 'request failed')).toBe(true);
  });
});

describe('operator scripts', () => {
  it('npm run health-check and npm run metrics ask a running server', async () => {
    const mcp = await mcpServer();
    const h = await server(mcp.url, { workflows: { 'sleepy.yaml': sleepy } });
    await h.json('POST', '/workflows/sleepy/executions?wait=5000', { body: { input: { ms: 1 } } });
    // Asynchronously: the server answering them lives in this process.
    const run = (script: string, ...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', `scripts/${script}.ts`, ...args],
          { cwd: ROOT },
          (error, stdout, stderr) =>
            resolve({
              status: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
              stdout,
              stderr,
            }),
        );
      });
    const health = await run('health-check', h.url);
    expect(health.status).toBe(0);
    expect(health.stdout).toContain(`${h.url}: live yes, ready yes`);
    expect(health.stdout).toMatch(/ {2}tools: (healthy|unknown), breaker closed/);
    const metrics = await run('metrics', h.url);
    expect(metrics.status).toBe(0);
    expect(metrics.stdout).toContain(
      'orchestrator_workflow_executions_total{workflow="sleepy",status="completed"} 1',
    );
    expect(metrics.stdout).not.toContain('process_cpu');
    const down = await run('health-check', 'http://127.0.0.1:9');
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('not reachable');
  });
});

describe('shutdown past SHUTDOWN_TIMEOUT', () => {
  it('answers waiting requests and ends event streams cleanly, and leaves the execution resumable', async () => {
    const mcp = await mcpServer();
    const h = await startServer(
      { mcps: { tools: { endpoints: { primary: { protocol: 'http', url: mcp.url } } } } },
      { env: { SHUTDOWN_TIMEOUT: '300' }, workflows: { 'sleepy.yaml': sleepy } },
    );
    const started = await h.json<{ id: string }>('POST', '/workflows/sleepy/executions', {
      body: { input: { ms: 5000 } },
    });
    const waiting = h.json<{ status: string }>('POST', '/workflows/sleepy/executions?wait=60000', {
      body: { input: { ms: 5000 } },
    });
    const stream = await h.request('GET', `/executions/${started.body.id}/events`);
    await eventually(() =>
      expect(mcp.log.filter((e) => e.tool === 'slow' && e.event === 'call')).toHaveLength(2),
    );
    const stopping = h.orchestrator.shutdown();
    const waited = await waiting;
    expect(waited.status).toBe(202);
    expect(waited.body.status).toBe('running');
    expect(await stream.text()).toBe(': connected\n\n');
    expect(await stopping).toBe(false);
    const { SqliteExecutionStore } = await import('../src/store/index.js');
    const store = new SqliteExecutionStore({ path: join(h.dir, 'data', 'orchestrator.db') });
    expect(await store.getExecution(started.body.id)).toMatchObject({
      status: 'running',
      owner: 'test-replica',
    });
    await store.close();
    await h.close();
  });
});

describe('request ids and health series', () => {
  it('keeps a plain x-request-id, replaces a hostile one, and leaves never-checked MCPs out of orchestrator_mcp_up', async () => {
    const mcp = await mcpServer();
    const h = await startServer({
      mcps: {
        checked: { endpoints: { primary: { protocol: 'http', url: mcp.url } } },
        unchecked: {
          endpoints: { primary: { protocol: 'http', url: mcp.url } },
          healthCheck: { enabled: false },
        },
      },
    });
    cleanups.push(() => h.close());
    const plain = await h.request('GET', '/health', { headers: { 'x-request-id': 'abc-123.def' } });
    expect(plain.headers.get('x-request-id')).toBe('abc-123.def');
    const hostile = await h.request('GET', '/health', {
      headers: { 'x-request-id': `forged\t${'x'.repeat(300)}` },
    });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(async () =>
      expect(await (await h.request('GET', '/metrics')).text()).toContain(
        'orchestrator_mcp_up{mcp="checked"} 1',
      ),
    );
    expect(await (await h.request('GET', '/metrics')).text()).not.toContain(
      'orchestrator_mcp_up{mcp="unchecked"}',
    );
  });
});

describe('configuration', () => {
  it('names the variable and the expected form of a bad value', () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'eighty' }, "PORT: expected a whole number from 0 to 65535, got 'eighty'"],
      [{ PORT: '70000' }, 'PORT: expected a whole number from 0 to 65535, got 70000'],
      [
        { MAX_CONCURRENT_WORKFLOWS: '0' },
        'MAX_CONCURRENT_WORKFLOWS: expected a whole number from 1 to 100000, got 0',
      ],
      [
        { LOG_LEVEL: 'loud' },
        "LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
      ],
      [
        { DATABASE_URL: 'mysql://x' },
        'DATABASE_URL: expected sqlite:<path>, sqlite::memory: or postgres://user:password@host:port/database',
      ],
      [{ API_KEYS: 'short' }, 'API_KEYS: expected a comma list of keys of at least 16 characters'],
      [
        { DISCOVERY_METHODS: 'file,carrier-pigeon' },
        "DISCOVERY_METHODS: expected a comma list of file, env, dns, kubernetes, multicast, got 'carrier-pigeon'",
      ],
      [
        { DNS_SERVERS: '10.0.0.2:53, a b' },
        "DNS_SERVERS: 'a b' is not a DNS server (expected host:port, [IPv6]:port or an address)",
      ],
      [
        { DNS_SERVERS: '10.0.0.2:99999' },
        "DNS_SERVERS: '10.0.0.2:99999' has no valid port (expected 1 to 65535)",
      ],
      [
        { MULTICAST_DISCOVERY_INTERFACE: 'eth0' },
        "MULTICAST_DISCOVERY_INTERFACE: expected the IPv4 address of a network interface, got 'eth0'",
      ],
      [
        { DISCOVERY_METHODS: 'dns' },
        'DNS_DISCOVERY_NAMES: is required when DISCOVERY_METHODS includes dns (e.g. _mcp._tcp.services.example.com)',
      ],
      [
        { DNS_DISCOVERY_NAMES: '_mcp._tcp.ok, bad name' },
        "DNS_DISCOVERY_NAMES: expected a comma list of DNS names, got 'bad name'",
      ],
      [
        { DNS_DISCOVERY_INTERVAL: '10' },
        'DNS_DISCOVERY_INTERVAL: expected a whole number from 1000 to 86400000, got 10',
      ],
      [
        { KUBERNETES_LABEL_SELECTOR: 'app in mcp' },
        "KUBERNETES_LABEL_SELECTOR: expected a label selector such as app=mcp,tier!=test, got 'app in mcp'",
      ],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      logLevel: 'info',
      registryPath: './mcp-registry.json',
      workflowsDir: './workflows',
      databaseUrl: 'sqlite:./data/orchestrator.db',
      discoveryMethods: ['file'],
      maxConcurrentWorkflows: 100,
      maxQueuedWorkflows: 1000,
      maxConcurrentSteps: 50,
      defaultTimeout: 300000,
      healthCheckInterval: 30000,
      apiKeys: [],
      shutdownTimeout: 30000,
      leaseDuration: 30000,
      bodyLimit: 1048576,
      maxWorkflowSteps: 500,
      kubernetesLabelSelector: 'mcp.orchestrator.io/enabled=true',
      dnsDiscoveryInterval: 30000,
    });
    // Selectors as kubectl writes them are accepted.
    for (const selector of [
      'app=mcp,tier!=test',
      'mcp.orchestrator.io/enabled',
      '!legacy',
      'env in (prod, staging)',
    ])
      expect(loadConfig({ KUBERNETES_LABEL_SELECTOR: selector }).kubernetesLabelSelector).toBe(selector);
  });
});
