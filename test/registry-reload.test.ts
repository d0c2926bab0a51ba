/**
 * The registry file as operators change it: edits in place, atomic saves
 * (write a temp file, rename it over), Kubernetes-style symlink swaps, an
 * invalid edit that must leave the last good view, and secrets that never
 * show.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MCPDiscoveryService,
  type RegistryEntry,
  type RegistryErrorEvent,
  type RegistryLoadedEvent,
} from '../src/index.js';
import { startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually, nextEvent } from './support/eventually.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(): Promise<TestHttpServer> {
  const s = await startV2HttpServer();
  cleanups.push(() => s.close());
  return s;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-registry-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function discovery(
  registryPath: string,
  env: Record<string, string> = {},
): Promise<MCPDiscoveryService> {
  const d = new MCPDiscoveryService({ registryPath, debounceMs: 20, env, pool: { healthChecks: false } });
  cleanups.push(() => d.close());
  await d.initialize();
  return d;
}

const entry = (url: string, extra: Record<string, unknown> = {}) => ({
  endpoints: { primary: { protocol: 'http', url } },
  ...extra,
});

describe('registry hot reload', () => {
  it('adds, updates and removes MCPs; an unchanged MCP keeps its client and breaker state', async () => {
    const a = await server();
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    const write = (mcps: Record<string, unknown>) =>
      writeFileSync(path, JSON.stringify({ version: '1', mcps }));
    write({
      keep: entry(a.url, { circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 } }),
      change: entry(a.url),
      drop: entry(a.url),
    });
    const d = await discovery(path);
    const kept = d.pool.get('keep')!;
    a.failNext(1, 500);
    await kept.callTool('echo', { text: 'x' }).catch(() => undefined);
    expect(d.getMcp('keep')?.circuitBreaker.state).toBe('open');

    const events: string[] = [];
    for (const name of ['mcp_discovered', 'mcp_updated', 'mcp_removed'] as const) {
      d.on(name, (e) => events.push(`${name}:${e.mcp}:${e.source}`));
    }
    const loaded = nextEvent<RegistryLoadedEvent>(d, 'registry_loaded');
    write({
      keep: entry(a.url, { circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 } }),
      change: entry(a.url, { priority: 7 }),
      fresh: entry(a.url, { capabilities: ['new'] }),
    });
    expect(await loaded).toMatchObject({
      source: 'file',
      mcps: 3,
      added: ['fresh'],
      removed: ['drop'],
      updated: ['change'],
    });
    expect(events.sort()).toEqual([
      'mcp_discovered:fresh:file',
      'mcp_removed:drop:file',
      'mcp_updated:change:file',
    ]);
    expect(d.getMcps().map((m) => m.name)).toEqual(['change', 'fresh', 'keep']);
    expect(d.getMcp('change')?.priority).toBe(7);
    expect(d.pool.get('keep')).toBe(kept);
    expect(d.getMcp('keep')?.circuitBreaker.state).toBe('open');
    expect(d.getMetrics().registryReloads).toEqual({ success: 2, error: 0 });
  });

  it('keeps the last good registry when an edit is invalid, and reports where', async () => {
    const a = await server();
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    writeFileSync(path, JSON.stringify({ mcps: { one: entry(a.url) } }));
    const d = await discovery(path);
    const failed = nextEvent<RegistryErrorEvent>(d, 'registry_error');
    writeFileSync(
      path,
      JSON.stringify({ mcps: { one: entry(a.url), two: { endpoints: { primary: { protocol: 'http' } } } } }),
    );
    expect(await failed).toMatchObject({
      source: 'file',
      error: { code: 'ORCH_REGISTRY_INVALID' },
      errors: [{ path: 'mcps.two.endpoints.primary.url', message: 'is required for protocol http' }],
    });
    expect(d.getMcps().map((m) => m.name)).toEqual(['one']);
    expect(d.getMetrics().registryReloads).toEqual({ success: 1, error: 1 });

    const broken = nextEvent<RegistryErrorEvent>(d, 'registry_error');
    writeFileSync(path, '{ "mcps": ');
    expect((await broken).errors[0]?.message).toMatch(/^is not valid JSON/);
    expect(d.getMcps().map((m) => m.name)).toEqual(['one']);
  });

  it('sees atomic saves: a temp file renamed over the registry', async () => {
    const a = await server();
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    writeFileSync(path, JSON.stringify({ mcps: { one: entry(a.url) } }));
    const d = await discovery(path);
    const loaded = nextEvent<RegistryLoadedEvent>(d, 'registry_loaded');
    const temp = join(dir, '.mcp-registry.json.tmp');
    writeFileSync(temp, JSON.stringify({ mcps: { one: entry(a.url), two: entry(a.url) } }));
    renameSync(temp, path);
    expect((await loaded).added).toEqual(['two']);
  });

  it('sees a Kubernetes ConfigMap update: the ..data symlink swapped to a new directory', async () => {
    const a = await server();
    const dir = tempDir();
    const write = (version: string, mcps: Record<string, unknown>) => {
      mkdirSync(join(dir, version));
      writeFileSync(join(dir, version, 'mcp-registry.json'), JSON.stringify({ mcps }));
    };
    write('..2026_01_01', { one: entry(a.url) });
    symlinkSync('..2026_01_01', join(dir, '..data'));
    symlinkSync(join('..data', 'mcp-registry.json'), join(dir, 'mcp-registry.json'));
    const d = await discovery(join(dir, 'mcp-registry.json'));
    expect(d.getMcps().map((m) => m.name)).toEqual(['one']);

    const loaded = nextEvent<RegistryLoadedEvent>(d, 'registry_loaded');
    write('..2026_01_02', { one: entry(a.url), two: entry(a.url) });
    symlinkSync('..2026_01_02', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    expect((await loaded).added).toEqual(['two']);
  });

  it('recovers after the file is deleted and written again', async () => {
    const a = await server();
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    writeFileSync(path, JSON.stringify({ mcps: { one: entry(a.url) } }));
    const d = await discovery(path);
    const missing = nextEvent<RegistryErrorEvent>(d, 'registry_error');
    unlinkSync(path);
    expect((await missing).error.message).toMatch(/ENOENT/);
    expect(d.getMcps()).toHaveLength(1);
    writeFileSync(path, JSON.stringify({ mcps: { one: entry(a.url), two: entry(a.url) } }));
    await eventually(() => expect(d.getMcps()).toHaveLength(2));
  });
});

describe('registry at start', () => {
  it('refuses to start on a missing ${VAR}, naming it', async () => {
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    writeFileSync(
      path,
      JSON.stringify({ mcps: { a: { endpoints: { primary: { protocol: 'http', url: '${MCP_URL}' } } } } }),
    );
    const d = new MCPDiscoveryService({ registryPath: path, env: {}, watch: false });
    await expect(d.initialize()).rejects.toMatchObject({
      code: 'ORCH_REGISTRY_INVALID',
      errors: [
        {
          path: 'mcps.a.endpoints.primary.url',
          message: 'environment variable MCP_URL is not set (use ${MCP_URL:-default} for a default)',
        },
      ],
    });
    await d.close();
  });

  it('never shows secrets: header values, stdio arguments and environment', async () => {
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    writeFileSync(
      path,
      JSON.stringify({
        mcps: {
          a: {
            name: 'Main Platform',
            endpoints: {
              primary: {
                protocol: 'http',
                url: 'http://127.0.0.1:9/mcp',
                headers: { 'X-API-Key': '${API_KEY}', Authorization: 'Bearer s3cr3t' },
              },
              secondary: {
                protocol: 'stdio',
                command: 'node',
                args: ['server.js', '--token=t0ken'],
                env: { TOKEN: 'envs3cret' },
              },
            },
          },
        },
      }),
    );
    const d = await discovery(path, { API_KEY: 'k3y-value' });
    const shown = JSON.stringify(d.getMcps());
    for (const secret of ['k3y-value', 's3cr3t', 't0ken', 'envs3cret']) expect(shown).not.toContain(secret);
    expect(d.getMcp('a')).toMatchObject({
      name: 'a',
      displayName: 'Main Platform',
      source: 'file',
      endpoints: [
        {
          name: 'primary',
          protocol: 'http',
          url: 'http://127.0.0.1:9/mcp',
          headers: { 'X-API-Key': '***', Authorization: '***' },
        },
        { name: 'secondary', protocol: 'stdio', command: 'node' },
      ],
      health: { status: 'unknown' },
      circuitBreaker: { state: 'closed', failures: 0 },
    });
  });
});

describe('a discovery method that fails', () => {
  it('keeps its last good MCPs, is reported, and is retried with backoff until it answers', async () => {
    const mcp = await server();
    let calls = 0;
    let trigger: () => void = () => undefined;
    let answer: 'ok' | 'fail' | 'hang' = 'ok';
    const errors: RegistryErrorEvent[] = [];
    const d = new MCPDiscoveryService({
      registryPath: null,
      pool: { healthChecks: false },
      methodTimeoutMs: 100,
      methodRetry: { initialMs: 30, maxMs: 200 },
      methods: [
        {
          name: 'flaky',
          discoverMcps() {
            calls += 1;
            if (answer === 'fail') throw new Error('inventory service down');
            if (answer === 'hang') return new Promise<never>(() => undefined);
            return { billing: entry(mcp.url) } as Record<string, RegistryEntry>;
          },
          watch(onChange) {
            trigger = onChange;
            return () => undefined;
          },
        },
      ],
    });
    cleanups.push(() => d.close());
    d.on('registry_error', (e) => errors.push(e));
    await d.initialize();
    expect(d.getMcp('billing')).toMatchObject({ source: 'flaky' });

    // The source goes down: its MCPs stay, the failure is reported, and retries follow.
    answer = 'fail';
    trigger();
    await eventually(() => expect(calls).toBeGreaterThanOrEqual(4));
    expect(d.getMcp('billing')).toMatchObject({ source: 'flaky' });
    expect(errors[0]).toMatchObject({ source: 'flaky' });
    expect(errors[0]!.error.message).toContain('inventory service down');

    // A read that hangs counts as failed after methodTimeoutMs.
    answer = 'hang';
    await eventually(() =>
      expect(errors.some((e) => e.error.message.includes("'flaky' did not answer within 100 ms"))).toBe(true),
    );
    expect(d.getMcp('billing')).toBeDefined();

    // Back up: the next retry succeeds and the retries stop.
    answer = 'ok';
    await eventually(async () => {
      const before = calls;
      await new Promise((r) => setTimeout(r, 400));
      expect(calls).toBe(before);
    }, 5000);
    expect(d.getMcp('billing')).toMatchObject({ source: 'flaky' });
  });
});

describe('several sources naming the same MCP', () => {
  it('lets file, env, kubernetes, dns, multicast, then custom methods win, whatever the order added', async () => {
    const mcp = await server();
    const dir = tempDir();
    const path = join(dir, 'mcp-registry.json');
    writeFileSync(path, JSON.stringify({ mcps: { a: entry(mcp.url) } }));
    // Each source names the MCPs up to its own letter; each MCP shows which source won it.
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const method = (name: string, count: number) => {
      let onChange: () => void = () => undefined;
      const answer = () =>
        Object.fromEntries(names.slice(0, count).map((n) => [n, entry(mcp.url, { version: name })]));
      return {
        name,
        reads: 0,
        trigger: () => onChange(),
        discoverMcps() {
          this.reads += 1;
          return answer() as Record<string, RegistryEntry>;
        },
        watch(change: () => void) {
          onChange = change;
          return () => undefined;
        },
      };
    };
    // Added in the reverse of their precedence, to show that order does not decide.
    const methods = [
      method('custom', 6),
      method('multicast', 5),
      method('dns', 4),
      method('kubernetes', 3),
      method('env', 2),
    ];
    const d = new MCPDiscoveryService({
      registryPath: path,
      watch: false,
      methods,
      pool: { healthChecks: false },
    });
    cleanups.push(() => d.close());
    await d.initialize();
    expect(Object.fromEntries(d.getMcps().map((m) => [m.name, m.source]))).toEqual({
      a: 'file',
      b: 'env',
      c: 'kubernetes',
      d: 'dns',
      e: 'multicast',
      f: 'custom',
    });

    // A re-read that finds nothing new is no news: no registry_loaded, no MCP events.
    const events: string[] = [];
    for (const kind of ['registry_loaded', 'mcp_discovered', 'mcp_updated', 'mcp_removed'] as const)
      d.on(kind, () => events.push(kind));
    const dns = methods[2]!;
    const readsBefore = dns.reads;
    dns.trigger();
    await eventually(() => expect(dns.reads).toBe(readsBefore + 1));
    // The answer is applied in the microtasks after the read; setImmediate runs after them all.
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual([]);
  });
});

describe('a discovery method that declares an invalid MCP', () => {
  it('leaves that one out, reports it once until it changes, and keeps the others', async () => {
    const mcp = await server();
    let bad: Record<string, unknown> = { endpoints: { primary: { protocol: 'http', url: 'ftp://nope' } } };
    let onChange: () => void = () => undefined;
    let reads = 0;
    const d = new MCPDiscoveryService({
      registryPath: null,
      pool: { healthChecks: false },
      methods: [
        {
          name: 'inventory',
          discoverMcps() {
            reads += 1;
            return { good: entry(mcp.url), broken: bad } as unknown as Record<string, RegistryEntry>;
          },
          watch(change) {
            onChange = change;
            return () => undefined;
          },
        },
      ],
    });
    cleanups.push(() => d.close());
    const errors: RegistryErrorEvent[] = [];
    d.on('registry_error', (e) => errors.push(e));
    await d.initialize();
    expect(d.getMcps().map((m) => m.name)).toEqual(['good']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      source: 'inventory',
      error: { code: 'ORCH_REGISTRY_INVALID' },
      errors: [{ path: 'mcps.broken.endpoints.primary.url', message: 'must be an http:// or https:// URL' }],
    });

    // The same problem on the next poll is not news.
    onChange();
    await eventually(() => expect(reads).toBe(2));
    expect(errors).toHaveLength(1);

    // Mended: it joins the others.
    bad = entry(mcp.url);
    onChange();
    await eventually(() => expect(d.getMcps().map((m) => m.name)).toEqual(['broken', 'good']));
    expect(errors).toHaveLength(1);
  });
});
