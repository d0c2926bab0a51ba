/**
 * A Kubernetes API server on 127.0.0.1 for Services and EndpointSlices,
 * speaking the list and watch protocol the real one speaks: lists carry the
 * collection's resourceVersion; `?watch=true&resourceVersion=N` answers 200
 * and streams newline-delimited JSON events over chunked encoding, first
 * those after N from history, then live ones; BOOKMARKs when asked for;
 * 410 Gone (as an HTTP status or as an ERROR event) for a version that was
 * compacted away; label selectors on both, with an object that stops
 * matching seen as DELETED. Tests change objects, drop watch connections,
 * compact history, stall watch requests, take the server down and bring it
 * back, and read the requests it served (query and Authorization header).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** The resources served. */
export type Resource = 'services' | 'endpointslices';

/** An object as stored; `metadata.namespace` defaults to `default`. */
export interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  [field: string]: unknown;
}

/** One request the server answered. */
export interface RecordedRequest {
  resource: Resource | undefined;
  namespace: string | undefined;
  watch: boolean;
  query: Record<string, string>;
  authorization: string | undefined;
}

interface HistoryEvent {
  resource: Resource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  version: number;
  object: KubeObject;
  /** The object before this change, for selector transitions. */
  previous: KubeObject | undefined;
}

interface Watcher {
  resource: Resource;
  namespace: string;
  selector: (labels: Record<string, string> | undefined) => boolean;
  bookmarks: boolean;
  response: ServerResponse;
}

const KINDS = {
  services: { apiVersion: 'v1', kind: 'Service', path: /^\/api\/v1\/namespaces\/([^/]+)\/services$/ },
  endpointslices: {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    path: /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/,
  },
} as const;

/** Options of {@link FakeKubeApi.start}. */
export interface FakeKubeApiOptions {
  /** The bearer token required (test-token); others get 401. */
  token?: string;
  /** How a compacted resourceVersion is refused: HTTP 410, or 200 with an ERROR event ('event', as the watch cache does). */
  goneAs?: 'status' | 'event';
}

/** A fake API server; see the file comment. */
export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  readonly token: string;
  goneAs: 'status' | 'event';
  /** Resources the token may not read (403, as RBAC without a Role answers). */
  readonly forbidden = new Set<Resource>();
  /** Watch requests held unanswered while {@link stallWatches} is on. */
  private stalled: ServerResponse[] | undefined;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: HistoryEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private version = 1;
  /** Watches from a version below this get 410. */
  private oldest = 1;
  private port = 0;

  private constructor(
    private readonly server: Server,
    options: FakeKubeApiOptions,
  ) {
    this.token = options.token ?? 'test-token';
    this.goneAs = options.goneAs ?? 'event';
  }

  static async start(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const server = createServer();
    const api = new FakeKubeApi(server, options);
    server.on('request', (req, res) => api.handle(req, res));
    await api.listen();
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig for this server with a token user; `namespace` is the context's. */
  kubeConfig(options: { namespace?: string; token?: string } = {}): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      // client-node refuses http:// unless TLS verification is off (there is no TLS to verify).
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'tester', token: options.token ?? this.token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace: options.namespace }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  /** Creates or replaces an object; returns it as stored (with its new resourceVersion). */
  apply(resource: Resource, object: KubeObject): KubeObject {
    const namespace = object.metadata.namespace ?? 'default';
    const key = `${resource}/${namespace}/${object.metadata.name}`;
    const previous = this.objects.get(key);
    const stored: KubeObject = structuredClone({
      ...object,
      apiVersion: KINDS[resource].apiVersion,
      kind: KINDS[resource].kind,
      metadata: { ...object.metadata, namespace, resourceVersion: String(++this.version) },
    });
    this.objects.set(key, stored);
    this.record({
      resource,
      type: previous ? 'MODIFIED' : 'ADDED',
      version: this.version,
      object: stored,
      previous,
    });
    return stored;
  }

  /** Deletes an object (no-op when absent). */
  delete(resource: Resource, name: string, namespace = 'default'): void {
    const key = `${resource}/${namespace}/${name}`;
    const previous = this.objects.get(key);
    if (!previous) return;
    this.objects.delete(key);
    const object = {
      ...previous,
      metadata: { ...previous.metadata, resourceVersion: String(++this.version) },
    };
    this.record({ resource, type: 'DELETED', version: this.version, object, previous });
  }

  /** The latest resourceVersion. */
  get resourceVersion(): string {
    return String(this.version);
  }

  /** Open watch connections (of one resource). */
  openWatches(resource?: Resource): number {
    return [...this.watchers].filter((w) => !resource || w.resource === resource).length;
  }

  /** Cuts every watch connection: `clean` ends the chunked stream properly, else the socket is destroyed. */
  dropWatches(options: { clean?: boolean } = {}): void {
    for (const watcher of this.watchers) {
      if (options.clean) watcher.response.end();
      else watcher.response.socket?.destroy();
    }
    this.watchers.clear();
  }

  /** On: watch requests get no answer at all. Off: those held are cut, and watches are served again. */
  /** Stalled watch requests whose client has not hung up. */
  openStalled(): number {
    return (this.stalled ?? []).filter((r) => !r.socket?.destroyed).length;
  }

  stallWatches(on: boolean): void {
    if (on) this.stalled ??= [];
    else for (const response of this.stalled?.splice(0) ?? []) response.socket?.destroy();
    if (!on) this.stalled = undefined;
  }

  /** Forgets history: a watch from a version older than now gets 410 Gone. */
  compact(): void {
    this.oldest = this.version;
    this.history.length = 0;
  }

  /** Sends a BOOKMARK with the latest resourceVersion to watches that asked for them. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const { apiVersion, kind } = KINDS[w.resource];
      this.send(w, {
        type: 'BOOKMARK',
        object: { apiVersion, kind, metadata: { resourceVersion: this.resourceVersion } },
      });
    }
  }

  /** Takes the server down: no more connections, open ones cut. */
  async stop(): Promise<void> {
    this.watchers.clear();
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    await closed;
  }

  /** Brings the server back on the same port. */
  async restart(): Promise<void> {
    await this.listen();
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.stop();
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private record(event: HistoryEvent): void {
    this.history.push(event);
    for (const watcher of this.watchers) {
      const seen = this.asSeenBy(watcher, event);
      if (seen) this.send(watcher, seen);
    }
  }

  /** The event a watcher gets for a change, given its namespace and selector (none when it does not concern it). */
  private asSeenBy(w: Watcher, e: HistoryEvent): { type: string; object: KubeObject } | undefined {
    if (e.resource !== w.resource || e.object.metadata.namespace !== w.namespace) return undefined;
    const before = e.previous !== undefined && w.selector(e.previous.metadata.labels);
    const after = e.type !== 'DELETED' && w.selector(e.object.metadata.labels);
    if (after) return { type: before ? 'MODIFIED' : 'ADDED', object: e.object };
    return before ? { type: 'DELETED', object: e.object } : undefined;
  }

  private send(w: Watcher, event: unknown): void {
    w.response.write(`${JSON.stringify(event)}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): undefined {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const resource = (Object.keys(KINDS) as Resource[]).find((r) => KINDS[r].path.test(url.pathname));
    const namespace = resource && decodeURIComponent(KINDS[resource].path.exec(url.pathname)![1]!);
    const watch = query.watch === 'true' || query.watch === '1';
    this.requests.push({ resource, namespace, watch, query, authorization: req.headers.authorization });

    if (req.headers.authorization !== `Bearer ${this.token}`)
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    if (!resource || !namespace || req.method !== 'GET')
      return status(res, 404, 'NotFound', `the server could not find ${url.pathname}`);
    if (this.forbidden.has(resource)) {
      const group = KINDS[resource].apiVersion.split('/').slice(0, -1).join('/');
      const message = `${resource}${group ? `.${group}` : ''} is forbidden: User "system:serviceaccount:${namespace}:orchestrator" cannot ${watch ? 'watch' : 'list'} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`;
      return status(res, 403, 'Forbidden', message);
    }
    let selector: Watcher['selector'];
    try {
      selector = parseSelector(query.labelSelector ?? '');
    } catch (error) {
      return status(res, 400, 'BadRequest', (error as Error).message);
    }
    if (!watch) {
      const items = [...this.objects.entries()]
        .filter(([key, o]) => key.startsWith(`${resource}/${namespace}/`) && selector(o.metadata.labels))
        .map(([, o]) => o);
      const { apiVersion, kind } = KINDS[resource];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          apiVersion,
          kind: `${kind}List`,
          metadata: { resourceVersion: this.resourceVersion },
          items,
        }),
      );
      return;
    }

    if (this.stalled) {
      this.stalled.push(res);
      return;
    }
    const from = query.resourceVersion ? Number(query.resourceVersion) : 0;
    if (from !== 0 && from < this.oldest) {
      const message = `too old resource version: ${from} (${this.oldest})`;
      if (this.goneAs === 'status') return status(res, 410, 'Expired', message);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: statusObject(410, 'Expired', message) })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const watcher: Watcher = {
      resource,
      namespace,
      selector,
      bookmarks: query.allowWatchBookmarks === 'true',
      response: res,
    };
    if (from === 0) {
      // No version: the current state as ADDED events, as the API server does.
      for (const [key, o] of this.objects) {
        if (key.startsWith(`${resource}/${namespace}/`) && selector(o.metadata.labels))
          this.send(watcher, { type: 'ADDED', object: o });
      }
    } else {
      for (const event of this.history) {
        const seen = event.version > from ? this.asSeenBy(watcher, event) : undefined;
        if (seen) this.send(watcher, seen);
      }
    }
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }
}

function statusObject(code: number, reason: string, message: string) {
  return { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason, message, metadata: {} };
}

/** Answers with a Status object; returns nothing, so a handler can `return status(...)`. */
function status(res: ServerResponse, code: number, reason: string, message: string): undefined {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(statusObject(code, reason, message)));
  return undefined;
}

/** Equality-based selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated (all must hold). */
function parseSelector(text: string): Watcher['selector'] {
  const terms = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term) => {
      const match = /^(!?)([A-Za-z0-9./_-]+)(?:\s*(==|=|!=)\s*([A-Za-z0-9._-]*))?$/.exec(term);
      if (!match) throw new Error(`unable to parse requirement: ${term}`);
      const [, not, key, op, value] = match;
      return (labels: Record<string, string>) => {
        if (!op) return not ? !(key! in labels) : key! in labels;
        return op === '!=' ? labels[key!] !== value : labels[key!] === value;
      };
    });
  return (labels) => terms.every((t) => t(labels ?? {}));
}
