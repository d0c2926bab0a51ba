/**
 * The `kubernetes` discovery method: each Service of one namespace that
 * matches a label selector (`mcp.orchestrator.io/enabled=true`) is an MCP,
 * described by its `mcp.orchestrator.io/*` annotations and active while one
 * of its EndpointSlices has a ready endpoint. Services and EndpointSlices are
 * listed once, then watched (kubernetes-list-watch.ts): a change in the
 * cluster reaches the orchestrator in moments, without polling the API server.
 * Longer than most files: the Service-to-MCP mapping and the method that
 * applies it stay together, so their unit test sits beside them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import {
  type ConfigurationOptions,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  Observable,
  type V1EndpointSlice,
  type V1Service,
  type V1ServicePort,
} from '@kubernetes/client-node';
import { ErrorCode, OrchestratorError, type ValidationIssue } from '../engine/index.js';
import type { DiscoveryMethod } from './discovery-method.js';
import { ResourceWatch } from './kubernetes-list-watch.js';
import {
  addDescription,
  checkName,
  checkPath,
  checkPriority,
  checkProtocol,
  checkScheme,
} from './mcp-metadata.js';
import { isHttpUrl, type RegistryEntry } from './registry-loader.js';

/** Prefix of the annotations that describe a Service's MCP. */
export const ANNOTATION_PREFIX = 'mcp.orchestrator.io/';
/** Which Services are MCPs unless `KUBERNETES_LABEL_SELECTOR` says otherwise. */
export const DEFAULT_LABEL_SELECTOR = 'mcp.orchestrator.io/enabled=true';
/** The label an EndpointSlice names its Service with. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** What {@link entryFromService} makes of a Service: an MCP, or what is wrong with it. */
export type ServiceEntry = { name: string; entry: RegistryEntry } | { issues: ValidationIssue[] };

/** Options of {@link entryFromService}. */
export interface ServiceMappingOptions {
  /** For a Service whose metadata has none (`default`). */
  namespace?: string;
  /** Appended to `<service>.<namespace>.svc` (`cluster.local`). */
  clusterDomain?: string;
}

/**
 * The registry entry a Service declares. Its url is the Service's stable DNS
 * name, `<scheme>://<service>.<namespace>.svc:<port><path>`, not its pods'
 * IPs: an MCP session (and the client's pooled connections) then survives
 * pod restarts and rollouts, and kube-proxy spreads the calls; an
 * ExternalName Service's url has its external name as host. Readiness comes
 * from `slices` (those of this Service): `inactive` while no endpoint is
 * ready on the chosen port. Such an MCP stays listed rather than removed:
 * during a scale to zero or a crash loop, workflows naming it can still be
 * registered, `GET /mcps` shows it and why it is not called, and capability
 * routing passes over it; removing it would look like a deleted Service.
 * Problems are returned with paths naming `<namespace>/<service>` and the
 * annotation, never thrown.
 */
export function entryFromService(
  service: V1Service,
  slices: readonly V1EndpointSlice[],
  options: ServiceMappingOptions = {},
): ServiceEntry {
  const serviceName = service.metadata?.name ?? '';
  const namespace = service.metadata?.namespace ?? options.namespace ?? 'default';
  const annotations = service.metadata?.annotations ?? {};
  const read = (key: string) => annotations[ANNOTATION_PREFIX + key]?.trim() || undefined;
  const issues: ValidationIssue[] = [];
  const at = (key: string) => `${namespace}/${serviceName} annotation ${ANNOTATION_PREFIX}${key}`;
  const problem = (key: string, message: string) => issues.push({ path: at(key), message });

  const name = read('name') ?? serviceName;
  checkName(name, problem);
  const path = read('path') ?? '/mcp';
  checkPath(path, problem);
  const protocol = checkProtocol(read('protocol') ?? 'http', problem);
  const priority = checkPriority(read('priority'), problem);

  const external = service.spec?.type === 'ExternalName';
  const port = choosePort(service, read('port'), external);
  if (typeof port === 'string') {
    issues.push({
      path: read('port') ? at('port') : `${namespace}/${serviceName} spec.ports`,
      message: port,
    });
  }
  const scheme = checkScheme(read('scheme') ?? defaultScheme(port), problem);
  const host = external
    ? (service.spec?.externalName ?? '').replace(/\.$/, '')
    : `${serviceName}.${namespace}.svc${options.clusterDomain ? `.${options.clusterDomain}` : ''}`;
  if (external && !host)
    issues.push({ path: `${namespace}/${serviceName} spec.externalName`, message: 'is empty' });
  if (issues.length > 0 || typeof port === 'string') return { issues };

  const url = `${scheme}://${host}${port.number ? `:${port.number}` : ''}${path}`;
  if (!isHttpUrl(url)) return { issues: [{ path: at('path'), message: `makes '${url}', not a valid URL` }] };
  const entry: RegistryEntry = {
    endpoints: { primary: { protocol, url } },
    // An ExternalName Service has no endpoints of its own to be ready: it is taken at its word.
    status: external || hasReadyEndpoint(slices, port.name) ? 'active' : 'inactive',
  };
  if (priority !== undefined) entry.priority = priority;
  addDescription(entry, read);
  return { name, entry };
}

/** A Service skipped, and why. */
export interface SkippedService {
  /** `<namespace>/<name>` */
  service: string;
  issues: ValidationIssue[];
}

/**
 * The MCPs of a namespace's Services, by name, with the Services skipped. Two
 * Services naming the same MCP: the first by Service name wins, the other is
 * skipped, so the answer does not depend on the order events arrived in.
 */
export function mcpsFromServices(
  services: Iterable<V1Service>,
  slices: Iterable<V1EndpointSlice>,
  options: ServiceMappingOptions = {},
): { mcps: Record<string, RegistryEntry>; skipped: SkippedService[] } {
  const slicesOf = new Map<string, V1EndpointSlice[]>();
  for (const slice of slices) {
    const owner = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (owner) slicesOf.set(owner, [...(slicesOf.get(owner) ?? []), slice]);
  }
  const mcps: Record<string, RegistryEntry> = {};
  const owners = new Map<string, string>();
  const skipped: SkippedService[] = [];
  const sorted = [...services].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const service of sorted) {
    const ref = `${service.metadata?.namespace ?? options.namespace ?? 'default'}/${service.metadata?.name ?? ''}`;
    const result = entryFromService(service, slicesOf.get(service.metadata?.name ?? '') ?? [], options);
    if ('issues' in result) {
      skipped.push({ service: ref, issues: result.issues });
    } else if (owners.has(result.name)) {
      const message = `'${result.name}' is already the MCP of Service ${owners.get(result.name)}`;
      skipped.push({
        service: ref,
        issues: [{ path: `${ref} annotation ${ANNOTATION_PREFIX}name`, message }],
      });
    } else {
      owners.set(result.name, ref);
      mcps[result.name] = result.entry;
    }
  }
  return { mcps, skipped };
}

/** Options of {@link KubernetesDiscovery}. */
export interface KubernetesDiscoveryOptions {
  /** `KUBERNETES_NAMESPACE`; else the pod's own (service account file), else the kubeconfig context's, else `default`. */
  namespace?: string;
  /** `KUBERNETES_LABEL_SELECTOR` (`mcp.orchestrator.io/enabled=true`). */
  labelSelector?: string;
  /** Cluster access; else `KUBECONFIG` when set, else in-cluster when `KUBERNETES_SERVICE_HOST` is, else ~/.kube/config. */
  kubeConfig?: KubeConfig;
  /** Appended to `<service>.<namespace>.svc` in urls; unset, the pod's DNS search path completes the name. */
  clusterDomain?: string;
  /** Quiet time that gathers a burst of changes (a rollout) into one `onChange`, ms (50). */
  debounceMs?: number;
  /** Delay before resuming a dropped watch, ms; doubles while attempts fail ({ initialMs: 250, maxMs: 30000 }). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How long one list request may take, ms (10000). */
  listTimeoutMs?: number;
  /** Where `KUBECONFIG` and `KUBERNETES_SERVICE_HOST` are read (process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The in-cluster namespace file (/var/run/secrets/kubernetes.io/serviceaccount/namespace). */
  namespaceFile?: string;
}

/** Discovers MCPs from the annotated Services of a Kubernetes namespace, and follows them. */
export class KubernetesDiscovery implements DiscoveryMethod {
  readonly name = 'kubernetes';
  readonly namespace: string;
  readonly labelSelector: string;
  private readonly services: ResourceWatch<V1Service>;
  private readonly slices: ResourceWatch<V1EndpointSlice>;
  /** Skipped-Service messages already told, so a lasting problem is told once. */
  private told = new Set<string>();

  constructor(private readonly options: KubernetesDiscoveryOptions = {}) {
    const kubeConfig = options.kubeConfig ?? defaultKubeConfig(options.env ?? process.env);
    this.namespace = options.namespace || readNamespace(kubeConfig, options.namespaceFile ?? NAMESPACE_FILE);
    this.labelSelector = options.labelSelector ?? DEFAULT_LABEL_SELECTOR;
    const namespace = this.namespace;
    const labelSelector = this.labelSelector;
    const common = {
      namespace,
      labelSelector,
      kubeConfig,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.listTimeoutMs !== undefined ? { listTimeoutMs: options.listTimeoutMs } : {}),
    };
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    const ns = encodeURIComponent(namespace);
    this.services = new ResourceWatch<V1Service>({
      ...common,
      resource: 'services',
      path: `/api/v1/namespaces/${ns}/services`,
      list: (signal) => core.listNamespacedService({ namespace, labelSelector }, withSignal(signal)),
    });
    // The EndpointSlice controller copies a Service's labels onto its slices (Kubernetes >= 1.20,
    // setEndpointSliceLabels), so the same selector keeps this watch to the MCPs' slices rather
    // than every pod change in the namespace. Slices written by hand (a Service without a
    // selector) need the label too.
    this.slices = new ResourceWatch<V1EndpointSlice>({
      ...common,
      resource: 'endpointslices',
      path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      list: (signal) =>
        discovery.listNamespacedEndpointSlice({ namespace, labelSelector }, withSignal(signal)),
    });
  }

  /**
   * The MCPs as the cluster last told: listed on the first call (throwing
   * ORCH_DISCOVERY_FAILED naming the API server and namespace when that fails),
   * then answered from what the watches keep current.
   */
  async discoverMcps(): Promise<Record<string, RegistryEntry>> {
    await Promise.all([this.services.sync(), this.slices.sync()]);
    return this.mapped().mcps;
  }

  /** Watches Services and EndpointSlices; a skipped Service or a failing watch goes to `onError`. */
  watch(onChange: () => void, onError: (error: unknown) => void = () => undefined): () => void {
    let timer: NodeJS.Timeout | undefined;
    const synced = () => this.services.listed && this.slices.listed;
    const flush = () => {
      timer = undefined;
      this.tellSkipped(onError);
      onChange();
    };
    const handlers = {
      onChange: () => {
        if (synced()) timer ??= setTimeout(flush, this.options.debounceMs ?? 50);
      },
      // Until the first list succeeds, discoverMcps() fails and the discovery service reports that.
      onError: (error: unknown) => {
        if (synced()) onError(error);
      },
    };
    this.services.start(handlers);
    this.slices.start(handlers);
    if (synced()) this.tellSkipped(onError);
    return () => {
      clearTimeout(timer);
      this.services.stop();
      this.slices.stop();
    };
  }

  private mapped() {
    return mcpsFromServices(this.services.objects.values(), this.slices.objects.values(), {
      namespace: this.namespace,
      ...(this.options.clusterDomain ? { clusterDomain: this.options.clusterDomain } : {}),
    });
  }

  /** Tells each skipped Service once, until it is fixed (and again if it breaks again). */
  private tellSkipped(onError: (error: unknown) => void): void {
    const now = new Set<string>();
    for (const { service, issues } of this.mapped().skipped) {
      const message = `skipped Kubernetes Service ${service}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
      now.add(message);
      if (!this.told.has(message))
        onError(new OrchestratorError(ErrorCode.RegistryInvalid, message, { errors: issues }));
    }
    this.told = now;
  }
}

/**
 * The port an MCP is reached on: the annotation's (a port name, or a number
 * that must be one of the Service's ports), else the Service's first. A
 * number on a Service without ports (ExternalName) is taken as is. Returns
 * what is wrong instead when none fits.
 */
function choosePort(
  service: V1Service,
  wanted: string | undefined,
  external: boolean,
): { number?: number; name?: string; spec?: V1ServicePort } | string {
  const ports = service.spec?.ports ?? [];
  const listed = ports.map((p) => (p.name ? `${p.name} (${p.port})` : String(p.port))).join(', ');
  const found = (spec: V1ServicePort | undefined) =>
    spec && { number: spec.port, name: spec.name ?? '', spec };
  if (wanted === undefined) {
    if (ports[0]) return found(ports[0])!;
    return external ? {} : 'the Service has no ports';
  }
  if (/^\d+$/.test(wanted)) {
    const number = Number(wanted);
    if (number < 1 || number > 65_535)
      return `expected a port number 1-65535 or a port name, got '${wanted}'`;
    if (ports.length === 0) return { number };
    return (
      found(ports.find((p) => p.port === number)) ?? `the Service has no port ${number} (it has ${listed})`
    );
  }
  return (
    found(ports.find((p) => p.name === wanted)) ??
    `the Service has no port named '${wanted}' (it has ${listed || 'none'})`
  );
}

/** https when the port says so (`appProtocol: https`, named `https`, or 443), else http. */
function defaultScheme(port: ReturnType<typeof choosePort>): string {
  if (typeof port === 'string') return 'http';
  const tls = port.spec?.appProtocol === 'https' || port.name === 'https' || port.number === 443;
  return tls ? 'https' : 'http';
}

/**
 * Whether a slice lists a ready endpoint on the port (`ready` unset counts as
 * ready, as the API says). Slices name ports as the Service does ('' for a
 * lone unnamed port); `portName` undefined matches any.
 */
function hasReadyEndpoint(slices: readonly V1EndpointSlice[], portName: string | undefined): boolean {
  return slices.some(
    (slice) =>
      (portName === undefined || (slice.ports ?? []).some((p) => (p.name ?? '') === portName)) &&
      (slice.endpoints ?? []).some((e) => e.conditions?.ready !== false),
  );
}

/** An explicit `KUBECONFIG` first, then the pod's service account, then ~/.kube/config. */
function defaultKubeConfig(env: Readonly<Record<string, string | undefined>>): KubeConfig {
  const kubeConfig = new KubeConfig();
  // As kubectl: KUBECONFIG is a list of files merged in order. Read from `env`, not
  // process.env (which loadFromDefault would read), so the server's options decide.
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (files.length > 0) {
    kubeConfig.loadFromFile(files[0]!);
    for (const file of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kubeConfig.mergeConfig(more);
    }
  } else if (env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else {
    kubeConfig.loadFromDefault();
    // Finding nothing, client-node falls back to http://localhost:8080 (an insecure local API
    // server of old), whose failures would blame TLS. Say what is really missing, at start-up.
    const cluster = kubeConfig.getCurrentCluster();
    if (
      cluster?.name === 'cluster' &&
      cluster.server === 'http://localhost:8080' &&
      kubeConfig.getCurrentUser()?.name === 'user'
    ) {
      throw new Error(
        'found no Kubernetes client configuration: no KUBECONFIG, no ~/.kube/config, and not in a pod with a service account',
      );
    }
  }
  return kubeConfig;
}

/** The pod's own namespace, else the kubeconfig context's, else `default`. */
function readNamespace(kubeConfig: KubeConfig, file: string): string {
  const own = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return own || kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || 'default';
}

/** Request options that make a generated API call abortable (client-node has no other way in). */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  const pass = <T>(value: T) => new Observable(Promise.resolve(value));
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(signal);
          return pass(context);
        },
        post: pass,
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
