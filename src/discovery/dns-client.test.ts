/**
 * The DNS client against real sockets on loopback: tiny UDP and TCP
 * responders built from dns-packet answer the way a server would, right or
 * wrong, so TTLs, ids, failover and the TCP retry are seen on the wire.
 */
import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsClient, formatDnsServer, parseDnsServer } from './dns-client.js';

type Reply = (query: DecodedPacket) => Packet | Packet[] | undefined;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A UDP responder on `host`: each query gets `reply`'s packets (none: silence). */
async function udpResponder(
  reply: Reply,
  host = '127.0.0.1',
  port = 0,
): Promise<{ port: number; queries: DecodedPacket[] }> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const queries: DecodedPacket[] = [];
  socket.on('message', (message, from) => {
    const query = dnsPacket.decode(message);
    queries.push(query);
    const packets = reply(query) ?? [];
    for (const p of Array.isArray(packets) ? packets : [packets])
      socket.send(dnsPacket.encode(p), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(port, host, resolve));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { port: socket.address().port, queries };
}

/** A TCP responder on the same port: length-prefixed, one query per connection. */
async function tcpResponder(port: number, reply: Reply): Promise<Server> {
  const server = createServer((socket) => {
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
      const packet = reply(dnsPacket.decode(received.subarray(2)));
      if (packet && !Array.isArray(packet)) socket.end(dnsPacket.streamEncode(packet));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  expect((server.address() as AddressInfo).port).toBe(port);
  return server;
}

function response(query: DecodedPacket, fields: Partial<Packet> & { rcode?: string } = {}): Packet {
  const { rcode, ...rest } = fields;
  const rcodes: Record<string, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };
  return {
    type: 'response',
    id: query.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | (rcodes[rcode ?? 'NOERROR'] ?? 0),
    questions: query.questions ?? [],
    ...rest,
  };
}

const srv = (name: string, ttl: number, port: number, target = 'a.example.com'): Answer => ({
  type: 'SRV',
  name,
  ttl,
  data: { priority: 10, weight: 5, port, target },
});

describe('DnsClient.query', () => {
  it('returns the records with the smallest TTL, and the additional records', async () => {
    const server = await udpResponder((q) =>
      response(q, {
        answers: [
          srv('_mcp._tcp.example.com', 300, 8080),
          srv('_mcp._tcp.example.com', 42, 9090, 'b.example.com'),
        ],
        additionals: [{ type: 'TXT', name: '_mcp._tcp.example.com', ttl: 7, data: ['path=/mcp'] }],
      }),
    );
    const client = new DnsClient({ servers: [`127.0.0.1:${server.port}`] });
    const answer = await client.query('_mcp._tcp.example.com', 'SRV');
    expect(answer).toMatchObject({ rcode: 'NOERROR', ttl: 42, server: `127.0.0.1:${server.port}` });
    expect(answer.answers.map((a) => a.type === 'SRV' && a.data)).toEqual([
      { priority: 10, weight: 5, port: 8080, target: 'a.example.com' },
      { priority: 10, weight: 5, port: 9090, target: 'b.example.com' },
    ]);
    expect(answer.additionals).toHaveLength(1);
    // What went out: one SRV question, recursion desired.
    expect(server.queries[0]).toMatchObject({ questions: [{ type: 'SRV', name: '_mcp._tcp.example.com' }] });
    expect(server.queries[0]!.flag_rd).toBe(true);
  });

  it('ignores answers with another id or another question and takes the one that matches', async () => {
    const server = await udpResponder((q) => [
      response({ ...q, id: ((q.id ?? 0) + 1) % 0x10000 }, { answers: [srv('_mcp._tcp.example.com', 5, 1)] }),
      response(
        { ...q, questions: [{ type: 'SRV', name: 'other.example.com' }] },
        { answers: [srv('other.example.com', 5, 2)] },
      ),
      response(q, { answers: [srv('_mcp._tcp.example.com', 5, 3)] }),
    ]);
    const client = new DnsClient({ servers: [`127.0.0.1:${server.port}`] });
    const answer = await client.query('_mcp._tcp.example.com', 'SRV');
    expect(answer.answers.map((a) => a.type === 'SRV' && a.data.port)).toEqual([3]);
  });

  it('treats NXDOMAIN as an empty answer that lives as long as the SOA says', async () => {
    const server = await udpResponder((q) =>
      response(q, {
        rcode: 'NXDOMAIN',
        authorities: [
          {
            type: 'SOA',
            name: 'example.com',
            ttl: 900,
            data: { mname: 'ns.example.com', rname: 'admin.example.com', minimum: 60 },
          },
        ],
      }),
    );
    const client = new DnsClient({ servers: [`127.0.0.1:${server.port}`] });
    expect(await client.query('_mcp._tcp.gone.example.com', 'PTR')).toMatchObject({
      rcode: 'NXDOMAIN',
      answers: [],
      ttl: 60,
    });
  });

  it('moves on to the next server after SERVFAIL or silence', async () => {
    const failing = await udpResponder((q) => response(q, { rcode: 'SERVFAIL' }));
    const silent = await udpResponder(() => undefined);
    const good = await udpResponder((q) => response(q, { answers: [srv('_mcp._tcp.example.com', 5, 1)] }));
    const client = new DnsClient({
      servers: [`127.0.0.1:${failing.port}`, `127.0.0.1:${silent.port}`, `127.0.0.1:${good.port}`],
      timeoutMs: 200,
    });
    const answer = await client.query('_mcp._tcp.example.com', 'SRV');
    expect(answer.server).toBe(`127.0.0.1:${good.port}`);
    expect([failing.queries.length, silent.queries.length, good.queries.length]).toEqual([1, 1, 1]);
  });

  it('asks again in a second round when the only server dropped the first query', async () => {
    let seen = 0;
    const flaky = await udpResponder((q) => {
      seen += 1;
      return seen === 1 ? undefined : response(q, { answers: [srv('_mcp._tcp.example.com', 5, 1)] });
    });
    const client = new DnsClient({ servers: [`127.0.0.1:${flaky.port}`], timeoutMs: 200 });
    expect((await client.query('_mcp._tcp.example.com', 'SRV')).answers).toHaveLength(1);
    expect(flaky.queries).toHaveLength(2);
  });

  it('fails with an ORCH error naming the query and what each server did', async () => {
    const refusing = await udpResponder((q) => response(q, { rcode: 'REFUSED' }));
    const silent = await udpResponder(() => undefined);
    const client = new DnsClient({
      servers: [`127.0.0.1:${refusing.port}`, `127.0.0.1:${silent.port}`],
      timeoutMs: 100,
    });
    const error = await client.query('_mcp._tcp.example.com', 'SRV').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ORCH_DISCOVERY_FAILED',
      errors: [
        { path: `127.0.0.1:${refusing.port}`, message: 'answered REFUSED' },
        { path: `127.0.0.1:${silent.port}`, message: 'gave no answer within 100 ms' },
      ],
    });
    expect((error as Error).message).toBe(
      `DNS SRV query for _mcp._tcp.example.com failed: 127.0.0.1:${refusing.port} answered REFUSED; ` +
        `127.0.0.1:${silent.port} gave no answer within 100 ms`,
    );
    // Two rounds, as resolv.conf's attempts:2.
    expect([refusing.queries.length, silent.queries.length]).toEqual([2, 2]);
  });

  it('retries over TCP on the same server when the UDP answer is truncated', async () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      srv('_mcp._tcp.big.example.com', 30, 8000 + i, `host-${i}.example.com`),
    );
    const udp = await udpResponder((q) => response(q, { flags: dnsPacket.TRUNCATED_RESPONSE }));
    await tcpResponder(udp.port, (q) => response(q, { answers: many }));
    const client = new DnsClient({ servers: [`127.0.0.1:${udp.port}`] });
    const answer = await client.query('_mcp._tcp.big.example.com', 'SRV');
    expect(answer.answers).toHaveLength(40);
    expect(dnsPacket.encode(response(udp.queries[0]!, { answers: many })).length).toBeGreaterThan(512);
  });

  it('reaches a server at an IPv6 address', async (context) => {
    const server = await udpResponder(
      (q) => response(q, { answers: [srv('x.example.com', 5, 1)] }),
      '::1',
    ).catch(() => undefined);
    if (!server) return context.skip('no IPv6 loopback here');
    const client = new DnsClient({ servers: [`[::1]:${server.port}`] });
    expect((await client.query('x.example.com', 'SRV')).server).toBe(`[::1]:${server.port}`);
  });

  it('ends queries in flight on close', async () => {
    const silent = await udpResponder(() => undefined);
    const client = new DnsClient({ servers: [`127.0.0.1:${silent.port}`], timeoutMs: 60_000 });
    const pending = client.query('_mcp._tcp.example.com', 'SRV');
    await expect.poll(() => silent.queries.length).toBe(1);
    client.close();
    await expect(pending).rejects.toThrow('DNS client closed');
  });
});

describe('parseDnsServer', () => {
  it('reads host:port, [v6]:port and bare addresses with port 53', () => {
    expect(parseDnsServer('10.0.0.2:5353')).toEqual({ host: '10.0.0.2', port: 5353 });
    expect(parseDnsServer('10.0.0.2')).toEqual({ host: '10.0.0.2', port: 53 });
    expect(parseDnsServer('[2001:db8::1]:1053')).toEqual({ host: '2001:db8::1', port: 1053 });
    expect(parseDnsServer('[::1]')).toEqual({ host: '::1', port: 53 });
    expect(parseDnsServer('fd00::53')).toEqual({ host: 'fd00::53', port: 53 });
    expect(parseDnsServer('dns.internal:53')).toEqual({ host: 'dns.internal', port: 53 });
    expect(formatDnsServer({ host: '::1', port: 53 })).toBe('[::1]:53');
  });

  it('refuses what is not a server', () => {
    expect(() => parseDnsServer('10.0.0.2:0')).toThrow("'10.0.0.2:0' has no valid port");
    expect(() => parseDnsServer('10.0.0.2:dns')).toThrow('has no valid port');
    expect(() => parseDnsServer('[nope]:53')).toThrow('is not a DNS server');
    expect(() => parseDnsServer('a:b:c')).toThrow('is not a DNS server');
    expect(() => parseDnsServer('')).toThrow('is not a DNS server');
  });
});
