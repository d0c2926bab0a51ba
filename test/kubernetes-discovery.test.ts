/**
 * DISCOVERY_METHODS=kubernetes against a loopback Kubernetes API server
 * (test/support/fake-kube-api.ts) through the real @kubernetes/client-node:
 * annotated Services become MCPs and follow the cluster as it changes;
 * EndpointSlices decide active or inactive; a dropped watch resumes where it
 * left off, a compacted one re-lists; an API server that is down is reported
 * and recovered from.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KubernetesDiscovery,
  type KubernetesDiscoveryOptions,
} from '../src/discovery/kubernetes-discovery.js';
import { MCPDiscoveryService, type McpChangeEvent, type RegistryErrorEvent } from '../src/index.js';
import { eventually, nextEvent } from './support/eventually.js';
import { FakeKubeApi, type KubeObject, type RecordedRequest } from './support/fake-kube-api.js';

const NS = 'shop';
const ENABLED = { 'mcp.orchestrator.io/enabled': 'true' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function service(
  name: string,
  options: { labels?: Record<string, string>; annotations?: Record<string, string>; ports?: object[] } = {},
): KubeObject {
  return {
    metadata: {
      name,
      namespace: NS,
      labels: options.labels ?? ENABLED,
      annotations: options.annotations ?? {},
    },
    spec: { type: 'ClusterIP', ports: options.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  };
}

/** The EndpointSlice the controller would write for a Service: its labels, plus the service-name label. */
function slice(serviceName: string, ready: (boolean | undefined)[], portName = 'http'): KubeObject {
  return {
    metadata: {
      name: `${serviceName}-x1`,
      namespace: NS,
      labels: { ...ENABLED, 'kubernetes.io/service-name': serviceName },
    },
    addressType: 'IPv4',
    ports: [{ name: portName, port: 8080, protocol: 'TCP' }],
    endpoints: ready.map((r, i) => ({
      addresses: [`10.1.0.${i + 1}`],
      conditions: r === undefined ? {} : { ready: r },
    })),
  };
}

async function start(
  seed: (api: FakeKubeApi) => void = () => undefined,
  options: { down?: boolean; discovery?: KubernetesDiscoveryOptions } = {},
) {
  const api = await FakeKubeApi.start();
  cleanups.push(() => api.close());
  seed(api);
  if (options.down) await api.stop();
  const discovery = new KubernetesDiscovery({
    kubeConfig: api.kubeConfig(),
    namespace: NS,
    debounceMs: 5,
    backoff: { initialMs: 20, maxMs: 200 },
    ...options.discovery,
  });
  const d = new MCPDiscoveryService({
    registryPath: null,
    pool: { healthChecks: false },
    methods: [discovery],
    methodRetry: { initialMs: 20, maxMs: 200 },
  });
  cleanups.push(() => d.close());
  const errors: RegistryErrorEvent[] = [];
  d.on('registry_error', (e) => errors.push(e));
  await d.initialize();
  return { api, d, errors };
}

const change = (
  d: MCPDiscoveryService,
  event: 'mcp_discovered' | 'mcp_updated' | 'mcp_removed',
  mcp: string,
) => nextEvent<McpChangeEvent>(d, event, (e) => e.mcp === mcp);

/** Both watches connected, so what the test changes next reaches them live. */
const watching = (api: FakeKubeApi) =>
  eventually(() => {
    expect(api.openWatches('services')).toBe(1);
    expect(api.openWatches('endpointslices')).toBe(1);
  });

const lists = (api: FakeKubeApi, resource: RecordedRequest['resource']) =>
  api.requests.filter((r) => r.resource === resource && !r.watch);
const watches = (api: FakeKubeApi, resource: RecordedRequest['resource']) =>
  api.requests.filter((r) => r.resource === resource && r.watch);

describe('kubernetes discovery', () => {
  it('lists the labelled Services of its namespace as MCPs, described by their annotations', async () => {
    const { api, d, errors } = await start((api) => {
      api.apply(
        'services',
        service('weather-svc', {
          annotations: {
            'mcp.orchestrator.io/name': 'weather',
            'mcp.orchestrator.io/path': '/v1/mcp',
            'mcp.orchestrator.io/port': 'mcp',
            'mcp.orchestrator.io/protocol': 'streamable-http',
            'mcp.orchestrator.io/scheme': 'https',
            'mcp.orchestrator.io/tools': 'forecast, alerts',
            'mcp.orchestrator.io/capabilities': 'weather',
            'mcp.orchestrator.io/priority': '7',
            'mcp.orchestrator.io/version': '2.1.0',
          },
          ports: [
            { name: 'metrics', port: 9090 },
            { name: 'mcp', port: 9000 },
          ],
        }),
      );
      api.apply('endpointslices', slice('weather-svc', [true], 'mcp'));
      api.apply('services', service('unlabelled', { labels: { app: 'unlabelled' } }));
      api.apply('services', service('elsewhere', { labels: ENABLED }));
      api.apply('services', {
        ...service('other-ns'),
        metadata: { name: 'other-ns', namespace: 'billing', labels: ENABLED },
      });
    });
    expect(d.getMcp('weather')).toMatchObject({
      source: 'kubernetes',
      status: 'active',
      priority: 7,
      version: '2.1.0',
      tools: ['forecast', 'alerts'],
      capabilities: ['weather'],
      endpoints: [{ name: 'primary', protocol: 'http', url: 'https://weather-svc.shop.svc:9000/v1/mcp' }],
    });
    // Defaults: the Service's name, its first port, /mcp; no slices yet, so inactive.
    expect(d.getMcp('elsewhere')).toMatchObject({
      status: 'inactive',
      endpoints: [{ url: 'http://elsewhere.shop.svc:8080/mcp' }],
    });
    expect(d.getMcps().map((m) => m.name)).toEqual(['elsewhere', 'weather']);
    expect(errors).toEqual([]);
    // Every request carried the token, the selector, and stayed in its namespace.
    await watching(api);
    for (const request of api.requests) {
      expect(request).toMatchObject({
        authorization: `Bearer ${api.token}`,
        namespace: NS,
        query: { labelSelector: 'mcp.orchestrator.io/enabled=true' },
      });
    }
    expect(watches(api, 'services')[0]!.query).toMatchObject({
      allowWatchBookmarks: 'true',
      timeoutSeconds: expect.stringMatching(/^\d+$/),
    });
  });

  it('follows Services as they are added, changed, relabelled and deleted', async () => {
    const { api, d } = await start();
    await watching(api);

    const discovered = change(d, 'mcp_discovered', 'news');
    api.apply('services', service('news', { annotations: { 'mcp.orchestrator.io/tools': 'headlines' } }));
    expect(await discovered).toMatchObject({ source: 'kubernetes' });
    expect(d.getMcp('news')?.tools).toEqual(['headlines']);

    const updated = change(d, 'mcp_updated', 'news');
    api.apply(
      'services',
      service('news', { annotations: { 'mcp.orchestrator.io/tools': 'headlines,sports' } }),
    );
    await updated;
    expect(d.getMcp('news')?.tools).toEqual(['headlines', 'sports']);

    // A Service without the label is not an MCP; one that loses it stops being one.
    const other = change(d, 'mcp_discovered', 'later');
    api.apply('services', service('plain', { labels: {} }));
    api.apply('services', service('later'));
    await other;
    expect(d.getMcp('plain')).toBeUndefined();
    const unlabelled = change(d, 'mcp_removed', 'later');
    api.apply('services', service('later', { labels: { app: 'later' } }));
    await unlabelled;

    const removed = change(d, 'mcp_removed', 'news');
    api.delete('services', 'news', NS);
    expect(await removed).toMatchObject({ source: 'kubernetes' });
    expect(d.getMcps()).toEqual([]);

    // Closing the discovery service ends both watches.
    await d.close();
    await eventually(() => expect(api.openWatches()).toBe(0));
  });

  it('is active while an EndpointSlice has a ready endpoint on its port, and inactive otherwise', async () => {
    const { api, d } = await start((api) => api.apply('services', service('search')));
    await watching(api);
    const status = () => d.getMcp('search')?.status;
    expect(status()).toBe('inactive');

    api.apply('endpointslices', slice('search', [false, true]));
    await eventually(() => expect(status()).toBe('active'));
    api.apply('endpointslices', slice('search', [false, false]));
    await eventually(() => expect(status()).toBe('inactive'));
    // `ready` left out means ready (the API's rule for an unknown state).
    api.apply('endpointslices', slice('search', [undefined]));
    await eventually(() => expect(status()).toBe('active'));
    // Ready, but on another port than the MCP's.
    api.apply('endpointslices', slice('search', [true], 'metrics'));
    await eventually(() => expect(status()).toBe('inactive'));
    api.apply('endpointslices', slice('search', [true]));
    await eventually(() => expect(status()).toBe('active'));
    api.delete('endpointslices', 'search-x1', NS);
    await eventually(() => expect(status()).toBe('inactive'));
    // Listed all along, never removed.
    expect(d.getMcp('search')).toBeDefined();
  });

  it('resumes a dropped watch from the last resourceVersion it saw: no re-list, no event lost', async () => {
    const { api, d, errors } = await start((api) => api.apply('services', service('maps')));
    await watching(api);
    const updated = change(d, 'mcp_updated', 'maps');
    const seen = api.apply(
      'services',
      service('maps', { annotations: { 'mcp.orchestrator.io/version': '1' } }),
    );
    await updated;
    const listsBefore = lists(api, 'services').length;
    const watchesBefore = watches(api, 'services').length;

    // Cut the connection and change the Service in the same turn: the change happens while no watch is open.
    const after = change(d, 'mcp_updated', 'maps');
    api.dropWatches();
    api.apply('services', service('maps', { annotations: { 'mcp.orchestrator.io/version': '2' } }));
    await after;
    expect(d.getMcp('maps')?.version).toBe('2');
    expect(watches(api, 'services')[watchesBefore]?.query.resourceVersion).toBe(
      seen.metadata.resourceVersion,
    );

    // A stream the server ends cleanly resumes the same way; a BOOKMARK moves the version on
    // past changes the selector hides.
    await watching(api);
    api.apply('services', service('hidden', { labels: {} }));
    api.bookmark();
    const bookmarked = api.resourceVersion;
    const watchesNow = watches(api, 'services').length;
    const gone = change(d, 'mcp_removed', 'maps');
    api.dropWatches({ clean: true });
    api.delete('services', 'maps', NS);
    await gone;
    expect(watches(api, 'services')[watchesNow]?.query.resourceVersion).toBe(bookmarked);

    expect(lists(api, 'services')).toHaveLength(listsBefore);
    // Dropped watches are routine, not errors.
    expect(errors).toEqual([]);
  });

  it.each(['event', 'status'] as const)(
    're-lists on 410 Gone (as an ERROR %s): a Service deleted in the gap disappears',
    async (goneAs) => {
      const { api, d, errors } = await start((api) => {
        api.goneAs = goneAs;
        api.apply('services', service('news'));
        api.apply('services', service('maps'));
      });
      await watching(api);
      const listsBefore = lists(api, 'services').length;
      const watchesBefore = watches(api, 'services').length;

      const removed = change(d, 'mcp_removed', 'news');
      api.dropWatches();
      api.delete('services', 'news', NS);
      api.compact();
      await removed;
      expect(d.getMcp('maps')).toBeDefined();
      expect(lists(api, 'services')).toHaveLength(listsBefore + 1);
      // The resume asked for the compacted version (refused), then the re-list's version was watched.
      await eventually(() => expect(watches(api, 'services').length).toBeGreaterThan(watchesBefore + 1));
      const [refused, fresh] = watches(api, 'services').slice(watchesBefore);
      expect(Number(refused!.query.resourceVersion)).toBeLessThan(Number(api.resourceVersion));
      expect(fresh!.query.resourceVersion).toBe(api.resourceVersion);
      expect(errors).toEqual([]);
    },
  );

  it('reports an API server that is down at start, naming it and the namespace, and recovers once it is up', async () => {
    const { api, d, errors } = await start((api) => api.apply('services', service('weather')), {
      down: true,
    });
    expect(d.getMcps()).toEqual([]);
    expect(errors[0]).toMatchObject({ source: 'kubernetes' });
    expect(errors[0]!.error.message).toContain(
      `in namespace '${NS}' on the Kubernetes API server ${api.url}`,
    );

    const discovered = change(d, 'mcp_discovered', 'weather');
    await api.restart();
    await discovered;
    await watching(api);

    // Down again while watching: reported once the resume fails, the MCPs stay, and a change
    // made meanwhile is seen when it is back.
    const failures = errors.length;
    await api.stop();
    await eventually(() => expect(errors.length).toBeGreaterThan(failures));
    expect(errors.at(-1)!.error.message).toMatch(
      /cannot watch (services|endpointslices) in namespace 'shop'/,
    );
    expect(d.getMcp('weather')).toBeDefined();
    api.apply('services', service('weather', { annotations: { 'mcp.orchestrator.io/version': '3' } }));
    await api.restart();
    await eventually(() => expect(d.getMcp('weather')?.version).toBe('3'));
  });

  it('gives up on a watch the API server never answers, reports it, and resumes once it answers', async () => {
    const { api, d, errors } = await start((api) => api.apply('services', service('maps')), {
      discovery: { listTimeoutMs: 200 },
    });
    await watching(api);
    api.stallWatches(true);
    api.dropWatches();
    api.apply('services', service('maps', { annotations: { 'mcp.orchestrator.io/version': '9' } }));
    await eventually(() =>
      expect(errors.map((e) => e.error.message)).toContainEqual(
        expect.stringMatching(
          /cannot watch (services|endpointslices) in namespace 'shop' .*: no answer in time/,
        ),
      ),
    );
    expect(d.getMcp('maps')?.version).toBe('');
    // Each unanswered request is ended before the next is made: they do not pile up.
    await eventually(() => expect(api.openStalled()).toBeLessThanOrEqual(2));
    api.stallWatches(false);
    await eventually(() => expect(d.getMcp('maps')?.version).toBe('9'));
  });

  it('leaves no watch request open once closed, even one the API server never answered', async () => {
    const { api, d } = await start((api) => api.apply('services', service('maps')), {
      discovery: { listTimeoutMs: 300 },
    });
    await watching(api);
    api.stallWatches(true);
    api.dropWatches();
    await eventually(() => expect(api.openStalled()).toBe(2));
    await d.close();
    await eventually(() => expect(api.openStalled()).toBe(0));
    await new Promise((r) => setTimeout(r, 600));
    expect(api.openStalled()).toBe(0);
  });

  it('skips a Service with a bad annotation, reporting it once by name, and serves the others', async () => {
    const { api, d, errors } = await start((api) => {
      api.apply('services', service('good'));
      api.apply('services', service('broken', { annotations: { 'mcp.orchestrator.io/priority': 'high' } }));
    });
    expect(d.getMcp('good')).toBeDefined();
    expect(d.getMcp('broken')).toBeUndefined();
    const told = () => errors.filter((e) => e.error.message.includes('shop/broken'));
    await eventually(() => expect(told()).toHaveLength(1));
    expect(told()[0]).toMatchObject({ source: 'kubernetes', error: { code: 'ORCH_REGISTRY_INVALID' } });
    expect(told()[0]!.error.message).toContain(
      "shop/broken annotation mcp.orchestrator.io/priority: expected an integer, got 'high'",
    );

    // Other changes do not repeat it; fixing the Service brings its MCP in.
    await watching(api);
    const more = change(d, 'mcp_discovered', 'more');
    api.apply('services', service('more'));
    await more;
    expect(told()).toHaveLength(1);
    const fixed = change(d, 'mcp_discovered', 'broken');
    api.apply('services', service('broken', { annotations: { 'mcp.orchestrator.io/priority': '3' } }));
    await fixed;
    expect(d.getMcp('broken')?.priority).toBe(3);
  });

  it("defaults to the kubeconfig context's namespace, and names a refused request's status and the RBAC it lacks", async () => {
    const api = await FakeKubeApi.start();
    cleanups.push(() => api.close());
    api.apply('services', {
      ...service('inventory'),
      metadata: { name: 'inventory', namespace: 'team-a', labels: ENABLED },
    });
    const discovery = new KubernetesDiscovery({
      kubeConfig: api.kubeConfig({ namespace: 'team-a' }),
      namespaceFile: '/nonexistent/namespace',
    });
    expect(discovery.namespace).toBe('team-a');
    // In a pod, the service account's namespace file comes before the context.
    const dir = mkdtempSync(join(tmpdir(), 'orch-k8s-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'namespace'), 'team-b\n');
    const inPod = new KubernetesDiscovery({
      kubeConfig: api.kubeConfig({ namespace: 'team-a' }),
      namespaceFile: join(dir, 'namespace'),
    });
    expect(inPod.namespace).toBe('team-b');
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['inventory']);
    expect(api.requests.every((r) => r.namespace === 'team-a')).toBe(true);

    const badToken = new KubernetesDiscovery({
      kubeConfig: api.kubeConfig({ token: 'wrong' }),
      namespace: 'team-a',
    });
    await expect(badToken.discoverMcps()).rejects.toThrow(
      /cannot list (services|endpointslices) in namespace 'team-a' on the Kubernetes API server .*: HTTP 401/,
    );
    api.forbidden.add('endpointslices');
    const noRole = new KubernetesDiscovery({ kubeConfig: api.kubeConfig(), namespace: 'team-a' });
    await expect(noRole.discoverMcps()).rejects.toThrow(
      /cannot list endpointslices in namespace 'team-a' .*: HTTP 403 endpointslices.discovery.k8s.io is forbidden: .* \(the orchestrator's service account needs list and watch on endpointslices\)/,
    );
  });
});
