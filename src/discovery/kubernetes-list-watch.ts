/**
 * One kind of Kubernetes object in one namespace, listed once and then
 * watched, kept in memory (client-go's reflector, in small). A watch that
 * ends or drops is resumed from the last resourceVersion seen (an event's or
 * a BOOKMARK's) after a short backoff, so nothing is listed twice and no
 * event is lost; a 410 Gone (the HTTP status, or an ERROR event with code
 * 410) means that version was compacted away, and the collection is listed
 * again.
 *
 * Built on client-node's `Watch` (the streaming, auth and TLS) rather than
 * its `ListWatch`/`makeInformer`: in 1.4 that one stops for good after any
 * error (a failed list, a refused watch) until restarted by hand, re-watches
 * a closed stream at once with no backoff, and cannot be stopped while its
 * request is in flight. Taking those over would leave it little to do.
 */
import { ApiException, type KubeConfig, type V1Status, Watch } from '@kubernetes/client-node';
import { ErrorCode, OrchestratorError } from '../engine/index.js';

/** Shortest watch the API server is asked for, s (client-go's reflector: 5 to 10 minutes). */
const WATCH_SECONDS = 300;

/** The part of a Kubernetes object this needs. */
export interface KubeObject {
  metadata?: { name?: string; resourceVersion?: string };
}

/** A list answer: the items, and the collection's resourceVersion to watch from. */
export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string };
}

/** Options of {@link ResourceWatch}. */
export interface ResourceWatchOptions<T> {
  /** The resource, for messages: `services`. */
  resource: string;
  namespace: string;
  /** The collection's path: `/api/v1/namespaces/<ns>/services`. */
  path: string;
  /** Only objects with these labels (Kubernetes selector syntax); '' for all. */
  labelSelector: string;
  kubeConfig: KubeConfig;
  /** Lists the collection (honouring `signal`). */
  list(signal: AbortSignal): Promise<KubeList<T>>;
  /** How long one list, or the start of a watch, may take, ms (10000). */
  listTimeoutMs?: number;
  /** Delay before resuming a watch, ms; doubles while attempts fail ({ initialMs: 250, maxMs: 30000 }). */
  backoff?: { initialMs?: number; maxMs?: number };
}

/** What a running {@link ResourceWatch} tells. */
export interface ResourceWatchHandlers {
  /** The collection changed (an event, or a new list). */
  onChange(): void;
  /** A list or watch request failed (it is retried); an ERROR event arrived. */
  onError(error: unknown): void;
}

/** A collection listed, then kept current by a watch. */
export class ResourceWatch<T extends KubeObject> {
  /** The objects as last seen, by name (kept through failures). */
  readonly objects = new Map<string, T>();
  /** Whether a list ever succeeded: until then {@link objects} means nothing. */
  listed = false;
  /** Where the watch resumes; undefined when the collection must be listed (again). */
  private resourceVersion: string | undefined;
  private listing: Promise<void> | undefined;
  private handlers: ResourceWatchHandlers | undefined;
  /** Bumped by stop(): a loop of an older generation ends. */
  private generation = 0;
  private running = false;
  private lifetime = new AbortController();
  private watchController: AbortController | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly watcher: Watch;

  constructor(private readonly options: ResourceWatchOptions<T>) {
    // client-node's Watch puts its own abort signal on the request and hands it out only once
    // response headers arrive, so nothing of ours can end a request the API server never
    // answers. node-fetch's `timeout` can: it runs until the headers, then aborts the request
    // and fails the watch, which the loop reports and retries. One request at a time, bounded.
    const headersTimeout = options.listTimeoutMs ?? 10_000;
    const kubeConfig = options.kubeConfig;
    const bounded = {
      getCurrentCluster: () => kubeConfig.getCurrentCluster(),
      applyToFetchOptions: async (init: object) => ({
        ...(await kubeConfig.applyToFetchOptions(init)),
        timeout: headersTimeout,
      }),
    };
    this.watcher = new Watch(bounded as unknown as KubeConfig);
  }

  /** Lists the collection, unless a list succeeded before; throws ORCH_DISCOVERY_FAILED naming the API server. */
  async sync(): Promise<void> {
    if (!this.listed) await this.list();
  }

  /** Starts watching (listing first when needed); failures are told to `handlers` and retried. */
  start(handlers: ResourceWatchHandlers): void {
    this.handlers = handlers;
    if (this.running) return;
    this.running = true;
    if (this.lifetime.signal.aborted) this.lifetime = new AbortController();
    void this.run(this.generation);
  }

  /** Stops watching: aborts the requests in flight and the pending resume. */
  stop(): void {
    this.generation += 1;
    this.running = false;
    this.handlers = undefined;
    this.lifetime.abort();
    this.watchController?.abort();
    this.resume();
  }

  private async run(generation: number): Promise<void> {
    const { initialMs = 250, maxMs = 30_000 } = this.options.backoff ?? {};
    // Rounds in a row that got nothing done (no list, no event): the next delay doubles with each.
    let idle = 0;
    while (generation === this.generation) {
      let progressed = false;
      try {
        if (this.resourceVersion === undefined) {
          await this.list();
          progressed = true;
        }
        if (generation !== this.generation) return;
        if (await this.watchOnce()) progressed = true;
      } catch (error) {
        if (generation === this.generation) this.handlers?.onError(error);
      }
      idle = progressed ? 0 : idle + 1;
      if (generation !== this.generation) return;
      await this.pause(Math.min(maxMs, initialMs * 2 ** Math.max(0, idle - 1)));
    }
  }

  /** One list at a time: `sync()` and the watch loop share it. */
  private list(): Promise<void> {
    this.listing ??= this.listNow().finally(() => {
      this.listing = undefined;
    });
    return this.listing;
  }

  private async listNow(): Promise<void> {
    const timeout = AbortSignal.timeout(this.options.listTimeoutMs ?? 10_000);
    let answer: KubeList<T>;
    try {
      answer = await this.options.list(AbortSignal.any([this.lifetime.signal, timeout]));
    } catch (error) {
      throw this.failure('list', timeout.aborted ? new Error('no answer in time') : error);
    }
    // A list replaces what was known: objects deleted while no watch ran are gone.
    this.objects.clear();
    for (const item of answer.items) {
      const name = item.metadata?.name;
      if (name) this.objects.set(name, item);
    }
    this.resourceVersion = answer.metadata?.resourceVersion ?? '';
    this.listed = true;
    this.handlers?.onChange();
    // A list done for sync() lets a loop waiting out its backoff start watching now.
    this.resume();
  }

  /**
   * Watches from the current resourceVersion until the stream ends. Resolves
   * whether any event arrived; rejects when the watch could not start.
   */
  private watchOnce(): Promise<boolean> {
    // stop() then start() while this request is in flight must not leave it feeding the new run.
    const generation = this.generation;
    const current = () => generation === this.generation;
    return new Promise<boolean>((resolve, reject) => {
      let controller: AbortController | undefined;
      let started = false;
      let finished = false;
      let events = 0;
      let gone = false;
      let deadline: NodeJS.Timeout | undefined;
      const finish = (error: unknown) => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        if (this.watchController === controller) this.watchController = undefined;
        if (gone || (error as { statusCode?: number } | null)?.statusCode === 410) {
          this.resourceVersion = undefined;
          resolve(true);
        } else if (!started) {
          const timedOut = (error as { type?: string } | null)?.type === 'request-timeout';
          reject(
            this.failure(
              'watch',
              timedOut
                ? new Error('no answer in time')
                : (error ?? new Error('the watch ended before it began')),
            ),
          );
        } else {
          // A stream that ends or drops is routine (API server timeouts, restarts, proxies): resume, tell no one.
          resolve(events > 0);
        }
      };
      const onEvent = (type: string, object: unknown) => {
        if (finished || !current()) return;
        if (type === 'ERROR') {
          const status = object as V1Status;
          if (status.code === 410) gone = true;
          else this.handlers?.onError(this.failure('watch', new Error(statusText(status))));
          controller?.abort();
          return;
        }
        events += 1;
        this.apply(type, object as T);
      };
      // The API server ends a watch after timeoutSeconds (spread, as client-go does, so replicas do
      // not re-watch in step); the deadline ends one whose connection died without a word.
      const timeoutSeconds = Math.round(WATCH_SECONDS * (1 + Math.random()));
      const query: Record<string, string | number | boolean> = {
        resourceVersion: this.resourceVersion ?? '',
        allowWatchBookmarks: true,
        timeoutSeconds,
      };
      if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
      // A request unanswered until its headers is failed by node-fetch's timeout (see the constructor).
      this.watcher.watch(this.options.path, query, onEvent, finish).then(
        (answered) => {
          controller = answered;
          if (finished || !current()) {
            answered.abort();
            return;
          }
          started = true;
          this.watchController = answered;
          deadline = setTimeout(() => answered.abort(), (timeoutSeconds + 30) * 1000);
          deadline.unref();
        },
        (error: unknown) => finish(error),
      );
    });
  }

  private apply(type: string, object: T): void {
    const name = object.metadata?.name;
    const version = object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (!name || (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED')) return;
    if (type === 'DELETED') this.objects.delete(name);
    else this.objects.set(name, object);
    this.handlers?.onChange();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.pauseTimer = setTimeout(resolve, ms);
      this.pauseTimer.unref();
    });
  }

  /** Ends a pending pause now. */
  private resume(): void {
    clearTimeout(this.pauseTimer);
    this.wake?.();
    this.wake = undefined;
  }

  private failure(action: 'list' | 'watch', error: unknown): OrchestratorError {
    const { resource, namespace, kubeConfig } = this.options;
    const server = kubeConfig.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)';
    const detail = describe(error);
    const hint = /HTTP 40[13]\b/.test(detail)
      ? ` (the orchestrator's service account needs list and watch on ${resource})`
      : '';
    return new OrchestratorError(
      ErrorCode.DiscoveryFailed,
      `cannot ${action} ${resource} in namespace '${namespace}' on the Kubernetes API server ${server}: ${detail}${hint}`,
      { cause: error },
    );
  }
}

/** An API failure in one line: the HTTP status and the Status message when there is one. */
function describe(error: unknown): string {
  if (error instanceof ApiException) {
    // client-node hands the body of an unexpected status over as text: a Status object in JSON.
    let message: string | undefined;
    try {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      message = (body as V1Status | undefined)?.message;
    } catch {
      message = undefined;
    }
    return `HTTP ${error.code}${message ? ` ${message}` : ''}`;
  }
  const statusCode = (error as { statusCode?: number } | null)?.statusCode;
  const message = error instanceof Error ? error.message : String(error);
  return statusCode ? `HTTP ${statusCode} ${message}` : message;
}

function statusText(status: V1Status): string {
  return `${status.message ?? status.reason ?? 'error event'}${status.code ? ` (code ${status.code})` : ''}`;
}
