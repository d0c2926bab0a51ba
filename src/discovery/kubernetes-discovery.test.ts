import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { entryFromService, KubernetesDiscovery, mcpsFromServices } from './kubernetes-discovery.js';

function service(
  name: string,
  annotations: Record<string, string> = {},
  spec: V1Service['spec'] = { ports: [{ name: 'http', port: 8080 }] },
): V1Service {
  const prefixed = Object.fromEntries(
    Object.entries(annotations).map(([k, v]) => [`mcp.orchestrator.io/${k}`, v]),
  );
  return { metadata: { name, namespace: 'shop', annotations: prefixed }, spec };
}

function slice(serviceName: string, ready: (boolean | undefined)[], portName?: string): V1EndpointSlice {
  return {
    metadata: { name: `${serviceName}-1`, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [portName === undefined ? { port: 8080 } : { name: portName, port: 8080 }],
    endpoints: ready.map((r) => ({
      addresses: ['10.0.0.1'],
      conditions: r === undefined ? {} : { ready: r },
    })),
  };
}

const issuesOf = (result: ReturnType<typeof entryFromService>) => ('issues' in result ? result.issues : []);

describe('entryFromService', () => {
  it("defaults to the Service's name, its first port, http and /mcp, on the Service's DNS name", () => {
    expect(entryFromService(service('weather'), [slice('weather', [true], 'http')])).toEqual({
      name: 'weather',
      entry: {
        endpoints: { primary: { protocol: 'http', url: 'http://weather.shop.svc:8080/mcp' } },
        status: 'active',
      },
    });
    expect(entryFromService(service('weather'), [], { clusterDomain: 'cluster.local' })).toMatchObject({
      entry: { endpoints: { primary: { url: 'http://weather.shop.svc.cluster.local:8080/mcp' } } },
    });
  });

  it('reads every annotation', () => {
    const annotated = service(
      'weather-svc',
      {
        name: 'weather',
        path: '/v2/mcp',
        port: 'mcp',
        protocol: 'streamable-http',
        scheme: 'https',
        tools: 'forecast, alerts,forecast',
        capabilities: 'weather',
        priority: '-2',
        version: '1.4.0',
      },
      {
        ports: [
          { name: 'http', port: 80 },
          { name: 'mcp', port: 9000 },
        ],
      },
    );
    expect(entryFromService(annotated, [])).toEqual({
      name: 'weather',
      entry: {
        endpoints: {
          primary: { protocol: 'streamable-http', url: 'https://weather-svc.shop.svc:9000/v2/mcp' },
        },
        status: 'inactive',
        priority: -2,
        version: '1.4.0',
        tools: ['forecast', 'alerts'],
        capabilities: ['weather'],
      },
    });
  });

  it('takes a port number that is one of the Service ports, and https from the port itself', () => {
    const spec = {
      ports: [
        { name: 'metrics', port: 9090 },
        { name: 'web', port: 8443, appProtocol: 'https' },
      ],
    };
    expect(entryFromService(service('a', { port: '8443' }, spec), [])).toMatchObject({
      entry: { endpoints: { primary: { url: 'https://a.shop.svc:8443/mcp' } } },
    });
    expect(entryFromService(service('b', {}, { ports: [{ name: 'https', port: 8443 }] }), [])).toMatchObject({
      entry: { endpoints: { primary: { url: 'https://b.shop.svc:8443/mcp' } } },
    });
    expect(entryFromService(service('c', {}, { ports: [{ port: 443 }] }), [])).toMatchObject({
      entry: { endpoints: { primary: { url: 'https://c.shop.svc:443/mcp' } } },
    });
  });

  it('reaches an ExternalName Service at its external name, always active', () => {
    const external = service(
      'saas',
      { port: '8443', scheme: 'https' },
      {
        type: 'ExternalName',
        externalName: 'mcp.example.com.',
      },
    );
    expect(entryFromService(external, [])).toEqual({
      name: 'saas',
      entry: {
        endpoints: { primary: { protocol: 'http', url: 'https://mcp.example.com:8443/mcp' } },
        status: 'active',
      },
    });
    expect(
      entryFromService(service('bare', {}, { type: 'ExternalName', externalName: 'mcp.example.com' }), []),
    ).toMatchObject({ entry: { endpoints: { primary: { url: 'http://mcp.example.com/mcp' } } } });
  });

  it('names the namespace/service and the annotation of every problem', () => {
    const bad = service('broken', {
      name: '-bad name',
      path: 'mcp',
      protocol: 'grpc',
      scheme: 'ftp',
      priority: '1.5',
      port: 'grpc',
    });
    expect(issuesOf(entryFromService(bad, []))).toEqual([
      {
        path: 'shop/broken annotation mcp.orchestrator.io/name',
        message: expect.stringContaining("'-bad name'"),
      },
      {
        path: 'shop/broken annotation mcp.orchestrator.io/path',
        message: "expected a path starting with '/', got 'mcp'",
      },
      {
        path: 'shop/broken annotation mcp.orchestrator.io/protocol',
        message: expect.stringContaining("got 'grpc'"),
      },
      {
        path: 'shop/broken annotation mcp.orchestrator.io/priority',
        message: "expected an integer, got '1.5'",
      },
      {
        path: 'shop/broken annotation mcp.orchestrator.io/port',
        message: "the Service has no port named 'grpc' (it has http (8080))",
      },
      {
        path: 'shop/broken annotation mcp.orchestrator.io/scheme',
        message: expect.stringContaining("got 'ftp'"),
      },
    ]);
    expect(issuesOf(entryFromService(service('n', { port: '9999' }), []))).toEqual([
      {
        path: 'shop/n annotation mcp.orchestrator.io/port',
        message: 'the Service has no port 9999 (it has http (8080))',
      },
    ]);
    expect(issuesOf(entryFromService(service('none', {}, { ports: [] }), []))).toEqual([
      { path: 'shop/none spec.ports', message: 'the Service has no ports' },
    ]);
  });
});

describe('readiness from EndpointSlices', () => {
  const status = (slices: V1EndpointSlice[], svc = service('s')) =>
    (entryFromService(svc, slices) as { entry: { status: string } }).entry.status;

  it('is active when any slice has a ready endpoint on the chosen port', () => {
    expect(status([])).toBe('inactive');
    expect(status([slice('s', [false, false], 'http')])).toBe('inactive');
    expect(status([slice('s', [false], 'http'), slice('s', [true], 'http')])).toBe('active');
    // Unset `ready` is ready, as the API says.
    expect(status([slice('s', [undefined], 'http')])).toBe('active');
    // Ready, but only on a port that is not the MCP's.
    expect(status([slice('s', [true], 'metrics')])).toBe('inactive');
    expect(status([{ ...slice('s', [true]), endpoints: [] }])).toBe('inactive');
  });

  it("matches a Service's lone unnamed port to the slices' unnamed port", () => {
    const unnamed = service('s', {}, { ports: [{ port: 8080 }] });
    expect(status([slice('s', [true])], unnamed)).toBe('active');
    expect(status([slice('s', [true], 'http')], unnamed)).toBe('inactive');
  });
});

describe('mcpsFromServices', () => {
  it("gives each Service its own slices and skips bad ones, and a name's first Service wins", () => {
    const { mcps, skipped } = mcpsFromServices(
      [
        service('zeta', { name: 'shared' }),
        service('alpha', { name: 'shared' }),
        service('ok'),
        service('bad', { priority: 'high' }),
      ],
      [slice('ok', [true], 'http'), slice('alpha', [false], 'http')],
    );
    expect(Object.keys(mcps).sort()).toEqual(['ok', 'shared']);
    expect(mcps.ok!.status).toBe('active');
    expect(mcps.shared!.endpoints.primary!.url).toBe('http://alpha.shop.svc:8080/mcp');
    expect(mcps.shared!.status).toBe('inactive');
    expect(skipped).toEqual([
      {
        service: 'shop/bad',
        issues: [expect.objectContaining({ path: 'shop/bad annotation mcp.orchestrator.io/priority' })],
      },
      {
        service: 'shop/zeta',
        issues: [
          {
            path: 'shop/zeta annotation mcp.orchestrator.io/name',
            message: "'shared' is already the MCP of Service shop/alpha",
          },
        ],
      },
    ]);
  });
});

describe('KubernetesDiscovery without any cluster configuration', () => {
  it('refuses to start, saying what is missing, instead of trying http://localhost:8080', () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-no-kube-'));
    const saved = process.env.HOME;
    process.env.HOME = home; // no ~/.kube/config there
    try {
      expect(() => new KubernetesDiscovery({ env: {} })).toThrow(
        'found no Kubernetes client configuration: no KUBECONFIG, no ~/.kube/config, and not in a pod with a service account',
      );
    } finally {
      process.env.HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
