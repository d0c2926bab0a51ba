/**
 * The `dns` discovery method: MCP servers announced in DNS (DNS_DISCOVERY_NAMES).
 *
 * Each configured name is read two ways. When it has PTR records it is a
 * DNS-SD service type (`_mcp._tcp.example.com`, RFC 6763) and each PTR names
 * one instance (`Weather._mcp._tcp.example.com`) whose SRV and TXT records
 * make one MCP; the SRV and TXT a server sends along as additional records
 * are used, the rest is asked for. Without PTR records the name itself is
 * read for SRV and TXT, as one MCP (plain RFC 2782 SRV). dns-sd.ts turns an
 * instance into a registry entry: SRV priority gives endpoint order and the
 * MCP's priority, TXT `key=value` strings the metadata.
 *
 * While watched, the method calls `onChange` when the next read is due and
 * the service reads (it says nothing when the answer did not change, so
 * short TTLs do not flood the logs).
 *
 * TTLs are honoured by when the next read happens: at the smallest TTL of
 * every record used (negative answers count with their SOA's TTL), capped
 * by the interval and floored at `minRefreshMs` so a TTL of 0 cannot turn
 * into a busy loop. Records are never kept past their TTL on their own
 * account: the view changes only from a read that succeeded.
 *
 * Each name stands on its own: a name that cannot be read (every server
 * timed out, SERVFAIL, refused) keeps what it last announced while the
 * others move on, and the failure is reported through `onError` (once until
 * it changes). Only when no name can be read at all does the read throw:
 * the discovery service then keeps this method's last good MCPs and retries
 * with backoff (the timer keeps asking at the interval too). Keeping them is
 * a choice: expiring entries at their TTL while DNS is unreachable would
 * take working MCP servers out of service because of a DNS outage, which
 * hurts more than calling a server that might have moved.
 * A bad instance (no target, a bad TXT value, a name another instance took
 * first) is skipped and reported through `onError`, so one bad announcement
 * never hides the others.
 */
import type { Answer } from 'dns-packet';
import { ErrorCode, OrchestratorError, type ValidationIssue } from '../engine/index.js';
import type { DiscoveryMethod } from './discovery-method.js';
import { DnsClient, type DnsResponse, sameName } from './dns-client.js';
import { entryFromInstance, type ServiceInstance, type SrvTarget } from './dns-sd.js';
import { normalizeEntry, type RegistryEntry } from './registry-loader.js';

/** What the method needs of a resolver (a {@link DnsClient}, or another in tests). */
export interface DnsResolver {
  query(name: string, type: 'PTR' | 'SRV' | 'TXT'): Promise<DnsResponse>;
  /** Ends queries in flight. */
  close?(): void;
}

/** Options of {@link DnsDiscovery}. */
export interface DnsDiscoveryOptions {
  /** `DNS_DISCOVERY_NAMES`: service names (`_mcp._tcp.example.com`) or SRV names. */
  names: string[];
  /** `DNS_SERVERS` (`host:port`, `[v6]:port`); default the system's resolvers. */
  servers?: string[];
  /** `DNS_DISCOVERY_INTERVAL`: longest time between reads, ms (30000). */
  intervalMs?: number;
  /** How long one server has to answer one query, ms (2000). */
  timeoutMs?: number;
  /** Shortest time between reads when a TTL asks for sooner, ms (1000). */
  minRefreshMs?: number;
  /** Queries at most this many instances at once (8). */
  concurrency?: number;
  /** The resolver to use; default a {@link DnsClient} over `servers`. */
  resolver?: DnsResolver;
}

/** A resolved name: its instances and the TTLs (seconds) of the records that made them. */
interface NameResult {
  instances: ServiceInstance[];
  ttls: number[];
}

/** Discovers MCPs from DNS SRV/TXT records, DNS-SD style when PTR records are there. */
export class DnsDiscovery implements DiscoveryMethod {
  readonly name = 'dns';
  private readonly names: string[];
  private readonly resolver: DnsResolver;
  private readonly intervalMs: number;
  private readonly minRefreshMs: number;
  private readonly concurrency: number;
  /** When the next read is due after the last one, ms. */
  private nextDelayMs: number;
  private reading: Promise<Record<string, RegistryEntry>> | undefined;
  private watcher: { onChange: () => void; onError?: (error: unknown) => void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bad instances of the last read, and those last reported (each said once, not every poll). */
  private issues: ValidationIssue[] = [];
  private reported = '[]';
  /** What each name announced at its last good read. */
  private readonly lastGood = new Map<string, NameResult>();
  /** Names that failed at the last read, and the failure last reported. */
  private failures = '';

  constructor(options: DnsDiscoveryOptions) {
    this.names = options.names;
    this.intervalMs = options.intervalMs ?? 30_000;
    this.minRefreshMs = options.minRefreshMs ?? 1000;
    this.concurrency = options.concurrency ?? 8;
    this.nextDelayMs = this.intervalMs;
    this.resolver =
      options.resolver ??
      new DnsClient({
        ...(options.servers ? { servers: options.servers } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      });
  }

  /**
   * Reads every name now. Throws ORCH_DISCOVERY_FAILED naming each name that
   * could not be resolved and what its servers did. Calls made while a read
   * is in flight share it (a slow server must not pile reads up).
   */
  discoverMcps(): Promise<Record<string, RegistryEntry>> {
    this.reading ??= this.readAll().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  /** Calls `onChange` when the next read is due: at the smallest TTL, at most every interval. */
  watch(onChange: () => void, onError?: (error: unknown) => void): () => void {
    this.watcher = onError ? { onChange, onError } : { onChange };
    this.reportIssues();
    this.schedule(this.nextDelayMs);
    return () => {
      this.watcher = undefined;
      clearTimeout(this.timer);
      this.resolver.close?.();
    };
  }

  private async readAll(): Promise<Record<string, RegistryEntry>> {
    const results = await Promise.allSettled(this.names.map((name) => this.readName(name)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ name: this.names[i]!, r }] : []));
    const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
    const failure =
      failed.length === 0
        ? undefined
        : new OrchestratorError(
            ErrorCode.DiscoveryFailed,
            failed.map(({ name, r }) => `cannot resolve ${name}: ${message(r.reason)}`).join('; '),
            {
              cause: (failed[0]!.r as PromiseRejectedResult).reason,
              errors: failed.map(({ name, r }) => ({ path: name, message: message(r.reason) })),
            },
          );
    if (failure && failed.length === this.names.length) {
      // Try again at the interval at the latest; the service's backoff comes sooner.
      this.schedule(this.intervalMs);
      throw failure;
    }
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') this.lastGood.set(this.names[i]!, r.value);
    });
    // A name that failed keeps its last good answer (none before its first).
    const resolved = this.names.flatMap((name) => {
      const result = this.lastGood.get(name);
      return result ? [result] : [];
    });
    const ttls = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.ttls : []));
    const ttl = ttls.length > 0 ? Math.min(...ttls) : undefined;
    this.schedule(
      ttl === undefined
        ? this.intervalMs
        : Math.min(this.intervalMs, Math.max(this.minRefreshMs, ttl * 1000)),
    );
    this.reportFailures(failure);
    const { entries, issues } = toEntries(resolved.flatMap((r) => r.instances));
    this.issues = issues;
    this.reportIssues();
    return entries;
  }

  /** Reports names that failed while others were read, once until that changes. */
  private reportFailures(failure: OrchestratorError | undefined): void {
    const key = failure?.message ?? '';
    if (key === this.failures) return;
    this.failures = key;
    if (failure) this.watcher?.onError?.(failure);
  }

  /** The instances a configured name announces. */
  private async readName(name: string): Promise<NameResult> {
    const ptr = await this.resolver.query(name, 'PTR');
    const ttls = ptr.ttl === undefined ? [] : [ptr.ttl];
    const pointers = [
      ...new Map(
        ptr.answers.flatMap((r) => (r.type === 'PTR' ? [[r.data.toLowerCase(), r.data] as const] : [])),
      ).values(),
    ];
    if (pointers.length === 0) {
      const instance = await this.readInstance(name, [], ttls);
      // A plain name without SRV records announces nothing (yet, or any more).
      return { instances: instance.targets.length > 0 ? [instance] : [], ttls };
    }
    // Sorted, so which of two instances claiming one MCP name wins does not depend on the server.
    pointers.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    const instances = await mapLimited(pointers, this.concurrency, (fqdn) =>
      this.readInstance(fqdn, ptr.additionals, ttls),
    );
    return { instances, ttls };
  }

  /** SRV and TXT of one name, from records already at hand when the server sent them. */
  private async readInstance(
    fqdn: string,
    known: readonly Answer[],
    ttls: number[],
  ): Promise<ServiceInstance> {
    const records = async (type: 'SRV' | 'TXT') => {
      const given = known.filter((r) => r.type === type && sameName(r.name, fqdn));
      if (given.length > 0) {
        for (const r of given) if ('ttl' in r && r.ttl !== undefined) ttls.push(r.ttl);
        return given;
      }
      const response = await this.resolver.query(fqdn, type);
      if (response.ttl !== undefined) ttls.push(response.ttl);
      return response.answers;
    };
    const [srv, txt] = await Promise.all([records('SRV'), records('TXT')]);
    const targets: SrvTarget[] = srv.flatMap((r) =>
      r.type === 'SRV' ? [{ ...r.data, priority: r.data.priority ?? 0, weight: r.data.weight ?? 0 }] : [],
    );
    const strings = txt.flatMap((r) => (r.type === 'TXT' ? (Array.isArray(r.data) ? r.data : [r.data]) : []));
    return { fqdn, targets, txt: strings };
  }

  /** Arms the next read (while watching), replacing the one armed before. */
  private schedule(delayMs: number): void {
    this.nextDelayMs = delayMs;
    if (!this.watcher) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // The read re-arms the timer when it ends; this is in case it never happens.
      this.schedule(this.intervalMs);
      this.watcher?.onChange();
    }, delayMs);
    this.timer.unref();
  }

  /** Reports the bad instances when they differ from those reported last. */
  private reportIssues(): void {
    const onError = this.watcher?.onError;
    const key = JSON.stringify(this.issues);
    if (!onError || key === this.reported) return;
    this.reported = key;
    if (this.issues.length === 0) return;
    onError(
      new OrchestratorError(
        ErrorCode.RegistryInvalid,
        `DNS discovery skipped bad service instances: ${this.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        { errors: this.issues },
      ),
    );
  }
}

/**
 * Registry entries from instances, in the order given (names as configured,
 * instances by name): the first instance to claim an MCP name keeps it.
 */
export function toEntries(instances: readonly ServiceInstance[]): {
  entries: Record<string, RegistryEntry>;
  issues: ValidationIssue[];
} {
  const entries: Record<string, RegistryEntry> = {};
  const owners = new Map<string, string>();
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const instance of instances) {
    const fqdn = instance.fqdn.replace(/\.$/, '');
    // Two configured names may lead to the same instance: it is one MCP, not a clash.
    if (seen.has(fqdn.toLowerCase())) continue;
    seen.add(fqdn.toLowerCase());
    const made = entryFromInstance(instance);
    if ('issues' in made) {
      issues.push(...made.issues);
      continue;
    }
    const owner = owners.get(made.name);
    if (owner) {
      issues.push({ path: fqdn, message: `declares MCP '${made.name}', which ${owner} declared first` });
      continue;
    }
    // What the service would refuse (a target that makes no URL) is checked here too, so the
    // report names the DNS name that declared it, which the service cannot know.
    const problems: ValidationIssue[] = [];
    normalizeEntry(made.name, made.entry, 'dns', problems);
    if (problems.length > 0) {
      issues.push(...problems.map((p) => ({ path: fqdn, message: `${p.path} ${p.message}` })));
      continue;
    }
    owners.set(made.name, fqdn);
    entries[made.name] = made.entry;
  }
  return { entries, issues };
}

/** `fn` over `items` with at most `limit` running at once (a big DNS-SD domain must not flood the server); results in order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
