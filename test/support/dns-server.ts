/**
 * A real DNS server on 127.0.0.1 for integration tests (dns2, UDP and TCP on
 * one port), serving SRV, TXT and PTR records the test changes between
 * polls. It can answer UDP truncated (to drive the TCP retry), go down and
 * come back on the same port.
 */
import { createRequire } from 'node:module';
import { Socket } from 'node:net';

/** A record served; `ttl` in seconds (60). */
export type TestRecord =
  | {
      type: 'SRV';
      name: string;
      ttl?: number;
      priority?: number;
      weight?: number;
      port: number;
      target: string;
    }
  | { type: 'TXT'; name: string; ttl?: number; data: string[] }
  | { type: 'PTR'; name: string; ttl?: number; domain: string };

/** A query the server received. */
export interface ReceivedQuery {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

/** A running test DNS server. */
export interface TestDnsServer {
  /** `127.0.0.1:<port>`, as DNS_SERVERS takes it. */
  address: string;
  port: number;
  /** What is served; replace or edit it between polls. */
  records: TestRecord[];
  /** Answer PTR queries with the instances' SRV and TXT as additional records, as DNS-SD servers do (true). */
  additionals: boolean;
  /** Answer UDP queries with the TC bit and no records, so clients retry over TCP (false). */
  truncateUdp: boolean;
  /** Names answered SERVFAIL, as a broken zone would be (lower case, no trailing dot). */
  failing: Set<string>;
  queries: ReceivedQuery[];
  /** Stops answering on both transports (clients see the port closed). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

// dns2 is CommonJS without types: only what is used here is described.
interface Dns2Resource {
  name: string;
  type: number;
  class: number;
  ttl: number;
  [field: string]: unknown;
}
interface Dns2Packet {
  header: { tc: number; rcode: number };
  questions: { name: string; type: number }[];
  answers: Dns2Resource[];
  additionals: Dns2Resource[];
}
interface Dns2Listener {
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  close(callback?: () => void): unknown;
}
interface Dns2 {
  Packet: {
    TYPE: Record<string, number>;
    CLASS: Record<string, number>;
    createResponseFromRequest(request: Dns2Packet): Dns2Packet;
  };
  createUDPServer(handle: Handler): Dns2Listener & { listen(port: number, address: string): Promise<void> };
  createTCPServer(
    handle: Handler,
  ): Dns2Listener & { listen(port: number, host: string, callback: () => void): unknown; address(): unknown };
}
type Handler = (request: Dns2Packet, send: (response: Dns2Packet) => unknown, client: unknown) => void;

const dns2 = createRequire(import.meta.url)('dns2') as Dns2;
const { TYPE, CLASS } = dns2.Packet;
const NXDOMAIN = 3;
const SERVFAIL = 2;

const same = (a: string, b: string) =>
  a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();

function resource(record: TestRecord): Dns2Resource {
  const base = { name: record.name, type: TYPE[record.type]!, class: CLASS.IN!, ttl: record.ttl ?? 60 };
  switch (record.type) {
    case 'SRV':
      return {
        ...base,
        priority: record.priority ?? 0,
        weight: record.weight ?? 0,
        port: record.port,
        target: record.target,
      };
    case 'TXT':
      return { ...base, data: record.data };
    case 'PTR':
      return { ...base, domain: record.domain };
  }
}

/** Starts a DNS server on 127.0.0.1 (a free port, or `port`). */
export async function startDnsServer(records: TestRecord[] = [], port = 0): Promise<TestDnsServer> {
  let listeners: Dns2Listener[] = [];

  const handle: Handler = (request, send, client) => {
    const transport = client instanceof Socket ? 'tcp' : 'udp';
    const response = dns2.Packet.createResponseFromRequest(request);
    const question = request.questions[0];
    if (!question) return void send(response);
    const type = Object.keys(TYPE).find((k) => TYPE[k] === question.type) ?? String(question.type);
    server.queries.push({ name: question.name, type, transport });
    if (transport === 'udp' && server.truncateUdp) {
      response.header.tc = 1;
      return void send(response);
    }
    if ([...server.failing].some((name) => same(name, question.name))) {
      response.header.rcode = SERVFAIL;
      return void send(response);
    }
    const named = server.records.filter((r) => same(r.name, question.name));
    const answers = named.filter((r) => r.type === type);
    if (named.length === 0) response.header.rcode = NXDOMAIN;
    response.answers.push(...answers.map(resource));
    if (type === 'PTR' && server.additionals) {
      for (const ptr of answers as Extract<TestRecord, { type: 'PTR' }>[]) {
        const extra = server.records.filter((r) => r.type !== 'PTR' && same(r.name, ptr.domain));
        response.additionals.push(...extra.map(resource));
      }
    }
    send(response);
  };

  // UDP picks the port; TCP must then get the same number, which another process may hold
  // (a busy test run binds many ports): then both start over on another port, or, for a
  // fixed port, the failure is thrown rather than waited on forever.
  const listen = async (at: number): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const udp = dns2.createUDPServer(handle);
      udp.on('error', () => undefined);
      await udp.listen(at, '127.0.0.1');
      const bound = (udp as unknown as { address(): { port: number } }).address().port;
      const tcp = dns2.createTCPServer(handle);
      tcp.on('requestError', () => undefined);
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(bound, '127.0.0.1', () => {
            tcp.off('error', reject);
            tcp.on('error', () => undefined);
            resolve();
          });
        });
      } catch (error) {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        if (at !== 0 || attempt >= 20) throw error;
        continue;
      }
      listeners = [udp, tcp];
      return bound;
    }
  };

  const stop = async () => {
    await Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
    listeners = [];
  };

  const bound = await listen(port);
  const server: TestDnsServer = {
    address: `127.0.0.1:${bound}`,
    port: bound,
    records,
    additionals: true,
    truncateUdp: false,
    failing: new Set(),
    queries: [],
    down: stop,
    async up() {
      await listen(bound);
    },
    close: stop,
  };
  return server;
}
