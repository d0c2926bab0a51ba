/**
 * DISCOVERY_METHODS=file,env,kubernetes,dns on the real server, each source
 * backed by a real peer on loopback (a registry file, variables, a Kubernetes
 * API server reached through KUBECONFIG, a DNS server): every MCP shows its
 * source in GET /mcps, a name several sources declare goes to the one of
 * highest precedence, the metrics count MCPs per source, and a workflow step
 * runs against an MCP server found only through DNS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { startDnsServer, type TestDnsServer } from './support/dns-server.js';
import { eventually } from './support/eventually.js';
import { FakeKubeApi } from './support/fake-kube-api.js';
import { type ServerHarness, startServer } from './support/server-harness.js';

const DNS_NAME = '_mcp._tcp.services.test';
const ENABLED = { 'mcp.orchestrator.io/enabled': 'true' };

let mcp: TestHttpServer;
let dns: TestDnsServer;
let kube: FakeKubeApi;
let server: ServerHarness;
let dir: string;

/** A Service the Kubernetes method turns into the MCP `name`. */
const service = (name: string) => ({
  metadata: {
    name,
    namespace: 'tools',
    labels: ENABLED,
    annotations: { 'mcp.orchestrator.io/capabilities': 'k8s' },
  },
  spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
});

beforeAll(async () => {
  mcp = await startV2HttpServer();
  const port = Number(new URL(mcp.url).port);
  dns = await startDnsServer([
    // `shared` is also in the registry file and the cluster; `dns-only` is DNS's alone.
    { type: 'PTR', name: DNS_NAME, domain: `shared.${DNS_NAME}` },
    { type: 'PTR', name: DNS_NAME, domain: `dns-only.${DNS_NAME}` },
    { type: 'SRV', name: `shared.${DNS_NAME}`, port, target: '127.0.0.1' },
    { type: 'SRV', name: `dns-only.${DNS_NAME}`, port, target: '127.0.0.1' },
    { type: 'TXT', name: `dns-only.${DNS_NAME}`, data: ['tools=echo,slow', 'capabilities=from-dns'] },
  ]);
  kube = await FakeKubeApi.start();
  kube.apply('services', service('in-cluster'));
  kube.apply('services', service('shared'));
  kube.apply('services', service('dns-only-too'));
  dir = mkdtempSync(join(tmpdir(), 'orch-discovery-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kube.kubeConfig({ namespace: 'tools' }).exportConfig());

  server = await startServer(
    {
      mcps: {
        shared: { endpoints: { primary: { protocol: 'http', url: mcp.url } }, capabilities: ['file'] },
      },
    },
    {
      env: {
        DISCOVERY_METHODS: 'dns,kubernetes,env,file',
        MCP_FROM_ENV_URL: mcp.url,
        MCP_SHARED_URL: 'http://127.0.0.1:9/never-used',
        KUBECONFIG: kubeconfig,
        DNS_DISCOVERY_NAMES: DNS_NAME,
        DNS_SERVERS: dns.address,
      },
    },
  );
});
afterAll(async () => {
  await server?.close();
  await kube?.close();
  await dns?.close();
  await mcp?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('several discovery methods on the server', () => {
  it('shows each MCP with its source, the file winning a shared name, then env, kubernetes, dns', async () => {
    const list = await server.json<{ items: { name: string; source: string; capabilities: string[] }[] }>(
      'GET',
      '/mcps',
    );
    expect(Object.fromEntries(list.body.items.map((m) => [m.name, m.source]))).toEqual({
      shared: 'file',
      'from-env': 'env',
      'in-cluster': 'kubernetes',
      'dns-only-too': 'kubernetes',
      'dns-only': 'dns',
    });
    expect(list.body.items.find((m) => m.name === 'shared')?.capabilities).toEqual(['file']);
    // The cluster's MCP is reached at its Service's stable name in the namespace KUBECONFIG gave.
    expect((await server.json('GET', '/mcps/in-cluster')).body).toMatchObject({
      endpoints: [{ url: 'http://in-cluster.tools.svc:8080/mcp' }],
    });
  });

  it('counts MCPs per source on /metrics and follows a Service deleted in the cluster', async () => {
    const metric = async (series: string) => {
      const text = await (await server.request('GET', '/metrics')).text();
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(await metric('orchestrator_discovered_mcps{source="kubernetes"}')).toBe(2);
    expect(await metric('orchestrator_discovered_mcps{source="dns"}')).toBe(1);
    kube.delete('services', 'dns-only-too', 'tools');
    await eventually(async () => expect((await server.json('GET', '/mcps/dns-only-too')).status).toBe(404));
    expect(await metric('orchestrator_discovery_changes_total{source="kubernetes",change="removed"}')).toBe(
      1,
    );
  });

  it('runs a workflow step on an MCP server found only through DNS', async () => {
    const flow = {
      name: 'via-dns',
      version: '1',
      steps: [{ name: 'say', mcp: 'dns-only', action: 'echo', params: { text: 'found by SRV' } }],
    };
    expect((await server.json('POST', '/workflows', { body: flow })).status).toBe(201);
    const run = await server.json('POST', '/workflows/via-dns/executions?wait=10000', {
      body: { input: {} },
    });
    expect(run.body).toMatchObject({ status: 'completed', output: { say: { text: 'found by SRV' } } });
  });
});
