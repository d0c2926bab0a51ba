/**
 * The `multicast` discovery method: DNS-SD over Multicast DNS (RFC 6762,
 * RFC 6763) for local development. MCP servers that announce an instance of
 * `_mcp._tcp.local` (PTR, SRV, TXT and their host's A/AAAA) appear; they
 * disappear when they say goodbye (TTL 0) or stop answering until their TTL
 * runs out. TXT keys are those of the `dns` method (see dns-sd.ts).
 *
 * It is a querier only: it asks for `_mcp._tcp.local` at once, then after
 * 1, 2, 4 ... seconds up to `queryIntervalMs` (section 5.2), asks for the
 * SRV, TXT and addresses an announcement left out, and asks again for
 * records nearing the end of their TTL (see mdns-cache.ts). Its queries
 * carry no known answers, so responders answer in full, which also keeps
 * their SRV and address records fresh; on a development network the extra
 * packets do not matter.
 *
 * Endpoint URLs use the host's announced address, IPv4 first, rather than
 * its `.local` name: Node resolves names through getaddrinfo, which knows
 * `.local` only where nss-mdns is installed.
 *
 * Longer than most files: the socket, the query schedule and the reading of
 * the cache as DNS-SD instances depend on each other's state; the record
 * cache itself, which they share, is mdns-cache.ts.
 */
import type { RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import type { Packet, Question } from 'dns-packet';
import makeMdns from 'multicast-dns';
import { ErrorCode, OrchestratorError, type ValidationIssue } from '../engine/index.js';
import type { DiscoveryMethod } from './discovery-method.js';
import { entryFromInstance, type ServiceInstance } from './dns-sd.js';
import { MdnsCache, nameKey } from './mdns-cache.js';
import { normalizeEntry, type RegistryEntry } from './registry-loader.js';

/** Options of {@link MulticastDiscovery}. */
export interface MulticastDiscoveryOptions {
  /** The DNS-SD service type browsed (`_mcp._tcp.local`). */
  serviceType?: string;
  /** Longest time between two queries for the service type, ms (60000); the first ones come after 1, 2, 4 ... s. */
  queryIntervalMs?: number;
  /**
   * How long the first `discoverMcps()` waits for answers to the first query,
   * ms (500), so that servers already announced are there at start-up.
   * Responders answer within 20 to 120 ms (RFC 6762 section 6); later
   * answers still arrive, through `watch`.
   */
  initialWaitMs?: number;
  /**
   * Options of the multicast-dns socket: `port` (5353), `ip` (group,
   * 224.0.0.251), `interface` (an IPv4 address; default all), `loopback`
   * (true), ... With an `interface`, `bind` defaults to `0.0.0.0`: Linux
   * delivers multicast only to sockets bound to the wildcard or group
   * address, and multicast-dns would otherwise bind to the interface's.
   */
  mdns?: makeMdns.Options;
  /** false: open no socket and send nothing; records arrive through `handleResponse()` only (true). */
  listen?: boolean;
  /** Clock for record lifetimes (Date.now). */
  now?: () => number;
}

type Socket = makeMdns.MulticastDNS;
/** An instance as read from the cache, with the address of the host that announced it. */
type Instance = ServiceInstance & { from?: string };

/** Within this time a question is not asked again (RFC 6762 section 5.2: at least a second apart). */
const REASK_MS = 1000;
/** How long an instance whose host has no address yet waits for one (answers come within 20 to 120 ms). */
const ADDRESS_WAIT_MS = 1000;
/** Longest timer: a record with a huge TTL must not overflow setTimeout. */
const MAX_TIMER_MS = 3_600_000;
/** Errors kept while nobody watches yet (a membership that failed at start-up). */
const MAX_PENDING_ERRORS = 20;

/** Discovers MCP servers that announce themselves with mDNS on the local network. */
export class MulticastDiscovery implements DiscoveryMethod {
  readonly name = 'multicast';
  private readonly serviceType: string;
  private readonly queryIntervalMs: number;
  private readonly initialWaitMs: number;
  private readonly mdnsOptions: makeMdns.Options;
  private readonly listen: boolean;
  private readonly now: () => number;
  private readonly cache: MdnsCache;
  private socket: Socket | undefined;
  private starting: Promise<void> | undefined;
  private queryTimer: NodeJS.Timeout | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private queryDelay = REASK_MS;
  /** When each question (name and type) was last asked. */
  private readonly asked = new Map<string, number>();
  private onChange: (() => void) | undefined;
  private onError: ((error: unknown) => void) | undefined;
  private readonly pendingErrors: unknown[] = [];
  /** Socket errors reported already, by code and message: a failing membership is retried every 5 s. */
  private readonly reportedErrors = new Set<string>();
  /** Problems reported per instance, so a bad announcement is reported once, not on every read. */
  private readonly reportedInstances = new Map<string, string>();
  /** The instances as `discoverMcps()` last answered or `onChange` last announced: what the service knows. */
  private notifiedView = '[]';

  constructor(options: MulticastDiscoveryOptions = {}) {
    this.serviceType = nameKey(options.serviceType ?? '_mcp._tcp.local');
    this.queryIntervalMs = options.queryIntervalMs ?? 60_000;
    this.initialWaitMs = options.initialWaitMs ?? 500;
    const mdns = options.mdns ?? {};
    this.mdnsOptions = mdns.interface && mdns.bind === undefined ? { ...mdns, bind: '0.0.0.0' } : mdns;
    this.listen = options.listen ?? true;
    this.now = options.now ?? (() => Date.now());
    this.cache = new MdnsCache(this.now);
  }

  /** Opens the socket when needed (waiting `initialWaitMs` the first time) and answers every valid instance. */
  async discoverMcps(): Promise<Record<string, RegistryEntry>> {
    await this.start();
    this.cache.prune();
    const { view } = this.instances();
    this.notifiedView = JSON.stringify(view);
    return this.entries(view);
  }

  /**
   * Reports changes until the returned function is called, which closes the
   * socket and timers. The socket is opened by `discoverMcps()`, which the
   * discovery service calls first, and again with backoff after a failure.
   */
  watch(onChange: () => void, onError?: (error: unknown) => void): () => Promise<void> {
    this.onChange = onChange;
    this.onError = onError;
    for (const error of this.pendingErrors.splice(0)) onError?.(error);
    // Announcements that came between the last read and now are news.
    this.update();
    return () => this.close();
  }

  /**
   * Takes in a decoded mDNS response: its answers and additional records
   * about the service type, its instances and their hosts. Queries are
   * ignored (their answers are another querier's known answers, not news).
   */
  handleResponse(packet: Packet, rinfo?: Pick<RemoteInfo, 'address'>): void {
    if (packet.type !== 'response') return;
    const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])];
    const isInstance = (name: string) => nameKey(name).endsWith(`.${this.serviceType}`);
    // Addresses only of hosts an SRV record names, here or in the cache: not every host on the network.
    const hosts = new Set<string>();
    for (const r of records) if (r.type === 'SRV' && isInstance(r.name)) hosts.add(nameKey(r.data.target));
    for (const ptr of this.cache.get(this.serviceType, 'PTR'))
      for (const srv of this.cache.get(ptr.data, 'SRV')) hosts.add(nameKey(srv.data.target));
    const wanted = records.filter((r) => {
      switch (r.type) {
        case 'PTR':
          return nameKey(r.name) === this.serviceType && isInstance(r.data);
        case 'SRV':
        case 'TXT':
          return isInstance(r.name);
        case 'A':
        case 'AAAA':
          return hosts.has(nameKey(r.name));
        default:
          return false;
      }
    });
    if (wanted.length === 0) return;
    this.cache.add(wanted, rinfo?.address);
    this.update();
    this.ask(this.missingQuestions());
  }

  /** Stops: closes the socket and timers and forgets every record. */
  async close(): Promise<void> {
    this.onChange = this.onError = undefined;
    // An opening socket finishes first, so that nothing it starts outlives the close.
    const starting = this.starting;
    this.starting = undefined;
    await starting?.catch(() => undefined);
    clearTimeout(this.queryTimer);
    clearTimeout(this.cacheTimer);
    this.queryTimer = this.cacheTimer = undefined;
    this.cache.clear();
    this.asked.clear();
    this.reportedErrors.clear();
    this.reportedInstances.clear();
    this.pendingErrors.length = 0;
    this.notifiedView = '[]';
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.destroy(() => resolve()));
  }

  /** Opens the socket and starts querying; shared by concurrent callers, tried again after a failure. */
  private start(): Promise<void> {
    if (!this.listen) return Promise.resolve();
    this.starting ??= this.open().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async open(): Promise<void> {
    const port = this.mdnsOptions.port ?? 5353;
    const socket = makeMdns(this.mdnsOptions);
    // Warnings (a group that cannot be joined on an interface: ENODEV, EADDRNOTAVAIL; a packet
    // that does not decode) leave the socket working. Those of a socket that fails to open
    // repeat its error, which is thrown: they are kept until it is open.
    const early: Error[] = [];
    let ready = false;
    socket.on('warning', (error) => (ready ? this.reportOnce(error) : early.push(error)));
    await new Promise<void>((resolve, reject) => {
      // multicast-dns may emit a bind error twice; a listener must stay for the second.
      socket.on('error', (error) => (ready ? this.reportOnce(error) : reject(error)));
      socket.once('ready', resolve);
    }).catch(async (error: Error) => {
      await new Promise<void>((resolve) => socket.destroy(() => resolve()));
      throw new OrchestratorError(
        ErrorCode.DiscoveryFailed,
        `multicast discovery cannot listen on UDP port ${port}: ${error.message}`,
        { cause: error },
      );
    });
    ready = true;
    for (const error of early) this.reportOnce(error);
    socket.on('response', (packet, rinfo) => {
      // RFC 6762 section 6: a response from another port is not mDNS (and may be spoofed unicast).
      if (rinfo.port === port) this.handleResponse(packet, rinfo);
    });
    this.socket = socket;
    this.queryDelay = REASK_MS;
    this.query();
    await new Promise<void>((resolve) => setTimeout(resolve, this.initialWaitMs).unref());
  }

  /** Asks for the service type and whatever is missing, then schedules the next query, each twice as late. */
  private query(): void {
    clearTimeout(this.queryTimer);
    this.ask([{ name: this.serviceType, type: 'PTR' }, ...this.missingQuestions()], true);
    this.queryTimer = setTimeout(() => this.query(), this.queryDelay);
    this.queryTimer.unref();
    this.queryDelay = Math.min(this.queryDelay * 2, this.queryIntervalMs);
  }

  /** Sends the questions not asked within the last second (all of them when `force`). */
  private ask(questions: Question[], force = false): void {
    const now = this.now();
    for (const [key, at] of this.asked) if (now - at >= REASK_MS) this.asked.delete(key);
    const fresh = questions.filter((q) => {
      const key = `${nameKey(q.name)} ${q.type}`;
      if (this.asked.has(key) && !force) return false;
      this.asked.set(key, now);
      return true;
    });
    if (fresh.length === 0 || !this.socket) return;
    this.socket.query({ questions: fresh }, (error) => {
      if (error) this.reportOnce(error);
    });
  }

  /** SRV and TXT of instances known by PTR alone, and addresses of SRV targets. */
  private missingQuestions(): Question[] {
    const questions: Question[] = [];
    for (const ptr of this.cache.get(this.serviceType, 'PTR')) {
      const srvs = this.cache.get(ptr.data, 'SRV');
      if (srvs.length === 0) questions.push({ name: ptr.data, type: 'SRV' });
      if (this.cache.get(ptr.data, 'TXT').length === 0) questions.push({ name: ptr.data, type: 'TXT' });
      for (const srv of srvs) {
        if (this.addressOf(srv.data.target) !== undefined) continue;
        questions.push({ name: srv.data.target, type: 'A' }, { name: srv.data.target, type: 'AAAA' });
      }
    }
    return questions;
  }

  /** Drops expired records, tells the watcher when the instances changed, and sets the cache timer. */
  private update(): void {
    this.cache.prune();
    const { view, recheckAt } = this.instances();
    const text = JSON.stringify(view);
    if (text !== this.notifiedView && this.onChange) {
      this.notifiedView = text;
      this.onChange();
    }
    clearTimeout(this.cacheTimer);
    const due = Math.min(this.cache.nextDue() ?? Number.POSITIVE_INFINITY, recheckAt);
    if (due === Number.POSITIVE_INFINITY) return;
    this.cacheTimer = setTimeout(
      () => {
        const refresh = this.cache.takeRefreshes().map((r) => ({ name: r.name, type: r.type }));
        this.ask(refresh);
        this.update();
      },
      Math.min(Math.max(due - this.now(), 0), MAX_TIMER_MS),
    );
    this.cacheTimer.unref();
  }

  /**
   * Instances with a PTR, SRV and TXT, by name, and when to look again at
   * those held back. An instance without its TXT is not shown yet (RFC 6763
   * section 6 requires one), so that its `name=` does not rename it a moment
   * after it appears; one whose host has no address yet waits up to
   * ADDRESS_WAIT_MS for it before it is shown with the host's name, so that
   * its URL does not change a moment after it appears.
   */
  private instances(): { view: Instance[]; recheckAt: number } {
    const now = this.now();
    let recheckAt = Number.POSITIVE_INFINITY;
    const found = new Map<string, Instance>();
    for (const ptr of this.cache.get(this.serviceType, 'PTR')) {
      const srvs = this.cache.get(ptr.data, 'SRV');
      // The latest TXT: an older one may linger for a second after a change (mdns-cache.ts).
      const txt = this.cache.get(ptr.data, 'TXT')[0];
      if (srvs.length === 0 || !txt) continue;
      const targets = srvs.map(({ data }) => ({
        priority: data.priority ?? 0,
        weight: data.weight ?? 0,
        port: data.port,
        target: this.addressOf(data.target) ?? data.target,
      }));
      const waitUntil = Math.max(
        ...srvs.map((r) => (this.addressOf(r.data.target) ? 0 : r.firstReceivedAt + ADDRESS_WAIT_MS)),
      );
      if (waitUntil > now) {
        recheckAt = Math.min(recheckAt, waitUntil);
        continue;
      }
      const instance = { fqdn: ptr.data, targets, txt: txt.data.map((s) => Buffer.from(s).toString('utf8')) };
      const from = srvs[0]!.from;
      found.set(nameKey(ptr.data), from === undefined ? instance : { ...instance, from });
    }
    const view = [...found.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
    return { view, recheckAt };
  }

  /** An address of the host, IPv4 first; link-local IPv6 would need a zone a URL cannot carry. */
  private addressOf(host: string): string | undefined {
    if (isIP(host)) return host;
    return (
      this.cache.get(host, 'A')[0]?.data ??
      this.cache.get(host, 'AAAA').find((r) => !/^fe[89ab]/i.test(r.data))?.data
    );
  }

  /** The instances' registry entries; a bad or duplicate one is skipped and reported (once). */
  private entries(view: Instance[]): Record<string, RegistryEntry> {
    const entries = new Map<string, RegistryEntry>();
    const seen = new Set<string>();
    for (const instance of view) {
      const result = entryFromInstance(instance);
      let issues: ValidationIssue[] = [];
      if ('issues' in result) issues = result.issues;
      else if (entries.has(result.name))
        issues.push({
          path: `${instance.fqdn} TXT name`,
          message: `another instance is named '${result.name}'`,
        });
      // Checked here as the service would, so the report names the instance and its sender.
      else normalizeEntry(result.name, result.entry, this.name, issues);
      const key = nameKey(instance.fqdn);
      seen.add(key);
      if (issues.length === 0 && !('issues' in result)) {
        entries.set(result.name, result.entry);
        this.reportedInstances.delete(key);
        continue;
      }
      const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      if (this.reportedInstances.get(key) === text) continue;
      this.reportedInstances.set(key, text);
      const by = instance.from ? ` (announced by ${instance.from})` : '';
      this.report(
        new OrchestratorError(ErrorCode.RegistryInvalid, `mDNS instance skipped${by}: ${text}`, {
          errors: issues,
        }),
      );
    }
    for (const key of this.reportedInstances.keys()) if (!seen.has(key)) this.reportedInstances.delete(key);
    return Object.fromEntries(entries);
  }

  /** Reports a socket error, once per code and message, saying where it happened. */
  private reportOnce(error: Error & { code?: string }): void {
    const key = `${error.code ?? ''} ${error.message}`;
    if (this.reportedErrors.has(key)) return;
    this.reportedErrors.add(key);
    const { ip = '224.0.0.251', port = 5353, interface: iface } = this.mdnsOptions;
    const where = `${ip}:${port}${iface ? ` on interface ${iface}` : ''}`;
    this.report(
      new OrchestratorError(ErrorCode.DiscoveryFailed, `multicast discovery (${where}): ${error.message}`, {
        cause: error,
      }),
    );
  }

  private report(error: unknown): void {
    if (this.onError) this.onError(error);
    else if (this.pendingErrors.length < MAX_PENDING_ERRORS) this.pendingErrors.push(error);
  }
}
