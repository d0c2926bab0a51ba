/**
 * A small DNS stub resolver for the `dns` discovery method. Node's
 * `dns.resolveSrv`/`resolveTxt` hide the records' TTLs, and discovery needs
 * them to know when an answer goes stale, so this one speaks DNS itself
 * (dns-packet for the wire format): UDP first, TCP when the answer comes back
 * truncated, each server tried in turn. No EDNS0 is sent, so a large answer
 * (many DNS-SD instances) always takes the TCP path rather than risking a
 * server that refuses EDNS. Every query has its own socket with a random
 * source port and a random id, and an answer is accepted only from the
 * server asked, with that id and question: a blind spoofer has to guess both.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { getServers } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { connect, isIP } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type RecordType } from 'dns-packet';
import { ErrorCode, OrchestratorError } from '../engine/index.js';

/** A DNS server to ask: an IP address (or a host name, looked up first) and port. */
export interface DnsServer {
  host: string;
  port: number;
}

/** What a server answered. NXDOMAIN and NODATA are answers too, with no records. */
export interface DnsResponse {
  /** `NOERROR` or `NXDOMAIN`; other codes make the server count as failed. */
  rcode: string;
  answers: Answer[];
  /** Records the server added unasked (DNS-SD servers put SRV and TXT here for a PTR). */
  additionals: Answer[];
  /**
   * Seconds the answer may be cached: the smallest TTL of the answers, or for
   * an empty answer the negative-caching TTL of the zone's SOA (RFC 2308);
   * undefined when the server said neither.
   */
  ttl: number | undefined;
  /** The server that answered, as `host:port`. */
  server: string;
}

/** Options of {@link DnsClient}. */
export interface DnsClientOptions {
  /** Servers as `host:port`, `[v6]:port` or a bare address (port 53); default the system's resolvers. */
  servers?: string[];
  /** How long one server has to answer one query, ms (2000). */
  timeoutMs?: number;
  /** Rounds through the server list before a query fails (2), as resolv.conf's `attempts`. */
  attempts?: number;
}

/** Ends a whole query, not just the try at one server. */
class ClosedError extends Error {}

/** Answer codes that end a query: the name's state is known, even when it is "absent". */
const FINAL_RCODES = new Set(['NOERROR', 'NXDOMAIN']);

/**
 * Reads `host:port`, `[v6]:port`, a bare IPv4/IPv6 address or a host name
 * (port 53 when none). Throws an Error saying what is wrong.
 */
export function parseDnsServer(text: string): DnsServer {
  const value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  let host: string;
  let port: string | undefined;
  if (bracketed) [, host = '', port] = bracketed;
  else if (isIP(value) === 6) host = value;
  else [host = '', port] = value.split(':') as [string, string | undefined];
  const number = port === undefined ? 53 : Number(port);
  const valid = bracketed ? isIP(host) === 6 : host !== '' && !/[\s[\]]/.test(host);
  if (!valid || (!bracketed && isIP(value) !== 6 && value.split(':').length > 2))
    throw new Error(`'${text}' is not a DNS server (expected host:port, [IPv6]:port or an address)`);
  if (!Number.isInteger(number) || number < 1 || number > 65535)
    throw new Error(`'${text}' has no valid port (expected 1 to 65535)`);
  return { host, port: number };
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatDnsServer(server: DnsServer): string {
  return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** Resolves names through the configured DNS servers, with TTLs. */
export class DnsClient {
  private readonly servers: DnsServer[] | undefined;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  /** Aborts of the queries in flight, so `close()` can end them. */
  private readonly inFlight = new Set<(error: Error) => void>();

  constructor(options: DnsClientOptions = {}) {
    // An empty list (DNS_SERVERS unset) means the system's resolvers, never "ask nobody".
    this.servers = options.servers?.length ? options.servers.map(parseDnsServer) : undefined;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.attempts = Math.max(1, options.attempts ?? 2);
  }

  /** The servers queries go to, in order. */
  serverList(): DnsServer[] {
    // Read each time: Node re-reads nothing, but dns.setServers() may have changed them.
    return this.servers ?? getServers().map(parseDnsServer);
  }

  /**
   * Asks each server in turn until one answers NOERROR or NXDOMAIN. A
   * timeout, a network error or another answer code (SERVFAIL, REFUSED)
   * moves on to the next server; when every round fails, throws
   * ORCH_DISCOVERY_FAILED naming the query and what each server did.
   */
  async query(name: string, type: RecordType): Promise<DnsResponse> {
    const servers = this.serverList();
    const failures: { path: string; message: string }[] = [];
    for (let round = 0; round < this.attempts; round += 1) {
      for (const server of servers) {
        try {
          return await this.ask(server, name, type);
        } catch (error) {
          if (error instanceof ClosedError) throw error;
          const failure = { path: formatDnsServer(server), message: reason(error) };
          // Each round usually fails the same way: say it once per server.
          if (!failures.some((f) => f.path === failure.path && f.message === failure.message))
            failures.push(failure);
        }
      }
    }
    const tried = failures.map((f) => `${f.path} ${f.message}`).join('; ');
    throw new OrchestratorError(
      ErrorCode.DiscoveryFailed,
      `DNS ${type} query for ${name} failed: ${tried || 'no DNS servers configured'}`,
      { errors: failures.length > 0 ? failures : [{ path: name, message: 'no DNS servers configured' }] },
    );
  }

  /** Ends the queries in flight (they fail); later queries still work. */
  close(): void {
    for (const abort of [...this.inFlight]) abort(new ClosedError('DNS client closed'));
  }

  private async ask(server: DnsServer, name: string, type: RecordType): Promise<DnsResponse> {
    const address = isIP(server.host) ? server.host : (await lookup(server.host)).address;
    const id = randomInt(0, 0x10000);
    const request = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' }],
    });
    const expected = (packet: DecodedPacket) => isAnswerTo(packet, id, name, type);
    let packet = await this.overUdp(address, server.port, request, expected);
    if (packet.flag_tc) packet = await this.overTcp(address, server.port, request, expected);
    const rcode = (packet as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
    if (!FINAL_RCODES.has(rcode)) throw new Error(`answered ${rcode}`);
    const answers = packet.answers ?? [];
    return {
      rcode,
      answers,
      additionals: packet.additionals ?? [],
      ttl: answers.length > 0 ? minTtl(answers) : negativeTtl(packet.authorities ?? []),
      server: formatDnsServer(server),
    };
  }

  /** One datagram out, the first matching one back; others (late, spoofed) are ignored. */
  private overUdp(
    host: string,
    port: number,
    request: Buffer,
    expected: (packet: DecodedPacket) => boolean,
  ): Promise<DecodedPacket> {
    const socket: UdpSocket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    return this.exchange(
      () => {
        try {
          socket.close();
        } catch {
          // Already closed.
        }
      },
      (settle) => {
        socket.on('error', (error) => settle(error));
        socket.on('message', (message) => {
          const packet = decode(message);
          if (packet && expected(packet)) settle(undefined, packet);
        });
        // A connected socket takes datagrams from that server only, and an
        // ICMP "port unreachable" surfaces as ECONNREFUSED instead of a timeout.
        // A failed connect is passed to this callback, not emitted as 'error'.
        socket.connect(port, host, (error?: Error) => {
          if (error) settle(error);
          else socket.send(request, (sendError) => sendError && settle(sendError));
        });
      },
    );
  }

  /** The same query over TCP, framed with its two-byte length (RFC 1035 4.2.2). */
  private overTcp(
    host: string,
    port: number,
    request: Buffer,
    expected: (packet: DecodedPacket) => boolean,
  ): Promise<DecodedPacket> {
    const socket = connect({ host, port });
    return this.exchange(
      () => socket.destroy(),
      (settle) => {
        let received = Buffer.alloc(0);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(request.length);
        // No half-close after the query: some servers take the FIN as the client going away.
        socket.on('connect', () => socket.write(Buffer.concat([length, request])));
        socket.on('error', (error) => settle(error));
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
          const packet = decode(received.subarray(2, 2 + received.readUInt16BE(0)));
          if (packet && expected(packet)) settle(undefined, packet);
          else settle(new Error('answered over TCP with a packet that does not match the query'));
        });
        socket.on('close', () => settle(new Error('closed the TCP connection before answering')));
      },
    );
  }

  /** Runs one exchange with the timeout, cleanup and `close()` hook every transport needs. */
  private exchange(
    cleanup: () => void,
    start: (settle: (error: Error | undefined, packet?: DecodedPacket) => void) => void,
  ): Promise<DecodedPacket> {
    return new Promise((resolve, reject) => {
      let done = false;
      const settle = (error: Error | undefined, packet?: DecodedPacket) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inFlight.delete(settle);
        cleanup();
        if (error) reject(error);
        else resolve(packet!);
      };
      const timer = setTimeout(
        () => settle(new Error(`gave no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      this.inFlight.add(settle);
      try {
        start(settle);
      } catch (error) {
        settle(error as Error);
      }
    });
  }
}

function decode(message: Buffer): DecodedPacket | undefined {
  try {
    return dnsPacket.decode(message);
  } catch {
    return undefined;
  }
}

function isAnswerTo(packet: DecodedPacket, id: number, name: string, type: RecordType): boolean {
  const question = packet.questions?.[0];
  return (
    packet.id === id &&
    packet.type === 'response' &&
    question !== undefined &&
    question.type === type &&
    sameName(question.name, name)
  );
}

/** DNS names compare case-insensitively, with or without the root's trailing dot. */
export function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

function minTtl(records: readonly Answer[]): number | undefined {
  const ttls = records.map((r) => ('ttl' in r ? r.ttl : undefined)).filter((t) => t !== undefined);
  return ttls.length > 0 ? Math.min(...ttls) : undefined;
}

/** RFC 2308 section 5: a negative answer lives min(SOA TTL, SOA MINIMUM) seconds. */
function negativeTtl(authorities: readonly Answer[]): number | undefined {
  const soa = authorities.find((r) => r.type === 'SOA');
  if (soa?.type !== 'SOA') return undefined;
  const ttl = Math.min(soa.ttl ?? Number.POSITIVE_INFINITY, soa.data.minimum ?? Number.POSITIVE_INFINITY);
  return Number.isFinite(ttl) ? ttl : undefined;
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
