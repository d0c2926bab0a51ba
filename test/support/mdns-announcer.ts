/**
 * A DNS-SD responder for tests: announces one instance of `_mcp._tcp.local`
 * over real multicast (multicast-dns, on the test's private port and group),
 * answers queries for it, changes its TXT and says goodbye, as an MCP server
 * announcing itself would. Only what the multicast discovery tests need: no
 * probing, no conflict resolution, one IPv4 address.
 */
import type { Answer, Question } from 'dns-packet';
import makeMdns from 'multicast-dns';

/** Options of {@link startAnnouncer}. */
export interface AnnouncerOptions {
  /** Socket options, the same port, group and interface as the discovery's. */
  mdns: makeMdns.Options;
  /** Instance label: `Weather` announces `Weather._mcp._tcp.local`. */
  instance: string;
  /** Port in the SRV record. */
  port: number;
  /** TXT strings (`key=value`). */
  txt: string[];
  /** SRV target host (`<instance>-host.local`). */
  host?: string;
  /** The host's A record (127.0.0.1). */
  address?: string;
  /** TTL of every record, s (120). */
  ttl?: number;
  serviceType?: string;
  /**
   * Answer a query for the service type with the PTR alone, without SRV, TXT
   * and A as additional records (false): a minimal responder, so that the
   * discovery has to ask for them.
   */
  minimal?: boolean;
}

/** A running announcer. */
export interface MdnsAnnouncer {
  /** The instance's DNS name. */
  readonly fqdn: string;
  /** Every question the announcer received, in order. */
  readonly questions: Question[];
  /** Sends an unsolicited response with the given records (all of them). */
  announce(types?: readonly ('PTR' | 'SRV' | 'TXT' | 'A')[]): Promise<void>;
  /** Replaces the TXT strings and announces the new TXT record. */
  setTxt(txt: string[]): Promise<void>;
  /** Sends every record with TTL 0 (RFC 6762 section 10.1) and stops answering. */
  goodbye(): Promise<void>;
  /** Stops answering and closes the socket, without a goodbye (a server that crashed). */
  close(): Promise<void>;
}

/** Starts answering for an instance; call `announce()` to tell the network. */
export async function startAnnouncer(options: AnnouncerOptions): Promise<MdnsAnnouncer> {
  const serviceType = options.serviceType ?? '_mcp._tcp.local';
  const fqdn = `${options.instance}.${serviceType}`;
  const host = options.host ?? `${options.instance.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}-host.local`;
  const ttl = options.ttl ?? 120;
  let txt = [...options.txt];
  let answering = true;
  const questions: Question[] = [];

  const socket = makeMdns({
    ...options.mdns,
    ...(options.mdns.interface && options.mdns.bind === undefined ? { bind: '0.0.0.0' } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('ready', resolve);
    socket.once('error', reject);
  });

  // SRV, TXT and A are this host's alone: the cache-flush bit says so (RFC 6762 section 10.2).
  const records = (recordTtl = ttl) => ({
    PTR: { name: serviceType, type: 'PTR', ttl: recordTtl, data: fqdn } as Answer,
    SRV: {
      name: fqdn,
      type: 'SRV',
      ttl: recordTtl,
      flush: true,
      data: { priority: 0, weight: 0, port: options.port, target: host },
    } as Answer,
    // dns-packet turns the strings into Buffers in place: give it a copy.
    TXT: { name: fqdn, type: 'TXT', ttl: recordTtl, flush: true, data: [...txt] } as Answer,
    A: { name: host, type: 'A', ttl: recordTtl, flush: true, data: options.address ?? '127.0.0.1' } as Answer,
  });
  const send = (answers: Answer[], additionals: Answer[] = []) =>
    new Promise<void>((resolve, reject) =>
      socket.respond({ answers, additionals }, (error) => (error ? reject(error) : resolve())),
    );
  const same = (a: string, b: string) => a.replace(/\.$/, '').toLowerCase() === b.toLowerCase();

  socket.on('query', (query) => {
    questions.push(...query.questions);
    if (!answering) return;
    const r = records();
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const q of query.questions) {
      const wants = (type: string) => q.type === type || (q.type as string) === 'ANY';
      if (same(q.name, serviceType) && wants('PTR')) {
        answers.push(r.PTR);
        if (!options.minimal) additionals.push(r.SRV, r.TXT, r.A);
      }
      if (same(q.name, fqdn) && wants('SRV')) answers.push(r.SRV);
      if (same(q.name, fqdn) && wants('TXT')) answers.push(r.TXT);
      if (same(q.name, host) && wants('A')) answers.push(r.A);
    }
    if (answers.length > 0) void send(answers, additionals).catch(() => undefined);
  });

  return {
    fqdn,
    questions,
    async announce(types = ['PTR', 'SRV', 'TXT', 'A']) {
      const r = records();
      await send(types.map((t) => r[t]));
    },
    async setTxt(next) {
      txt = [...next];
      await send([records().TXT]);
    },
    async goodbye() {
      answering = false;
      const r = records(0);
      await send([r.PTR, r.SRV, r.TXT, r.A]);
    },
    async close() {
      answering = false;
      await new Promise<void>((resolve) => socket.destroy(() => resolve()));
    },
  };
}

/** Whether multicast works here, and why not when it does not. */
export interface MulticastProbe {
  ok: boolean;
  reason: string;
}

/**
 * Sends one query from one socket and waits (up to `timeoutMs`) for another
 * socket on the same port and group to receive it: the sandbox may block
 * multicast, or have no interface that carries it.
 */
export async function probeMulticast(mdns: makeMdns.Options, timeoutMs = 3000): Promise<MulticastProbe> {
  const options = { ...mdns, ...(mdns.interface && mdns.bind === undefined ? { bind: '0.0.0.0' } : {}) };
  const sockets: makeMdns.MulticastDNS[] = [];
  const problems: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const socket = makeMdns(options);
      sockets.push(socket);
      socket.on('warning', (error: Error) => problems.push(error.message));
      await new Promise<void>((resolve, reject) => {
        socket.once('ready', resolve);
        socket.once('error', reject);
      });
    }
    const name = `probe-${process.pid}-${Date.now()}.local`;
    const received = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      sockets[1]!.on('query', (query) => {
        if (!query.questions.some((q) => q.name === name)) return;
        clearTimeout(timer);
        resolve(true);
      });
    });
    sockets[0]!.query({ questions: [{ name, type: 'A' }] }, (error) => {
      if (error) problems.push(error.message);
    });
    if (await received) return { ok: true, reason: '' };
    const detail = problems.length > 0 ? ` (${problems.join('; ')})` : '';
    return {
      ok: false,
      reason: `a multicast query sent to ${options.ip}:${options.port} did not arrive within ${timeoutMs} ms${detail}`,
    };
  } catch (error) {
    return { ok: false, reason: `cannot open a multicast socket: ${(error as Error).message}` };
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.destroy(() => resolve()))));
  }
}
