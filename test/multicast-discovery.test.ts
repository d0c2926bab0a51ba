/**
 * The multicast discovery method against a real mDNS announcer on the same
 * host, over real multicast on a private port and group on the loopback
 * interface (never the network's 5353): MCP servers appear, change, say
 * goodbye or fall silent, and a tool call reaches one through the pool.
 * Where the sandbox blocks multicast these cases are skipped, saying so; the
 * record handling is still tested with real mDNS packets by the unit tests
 * beside the method.
 */
import { createSocket } from 'node:dgram';
import type makeMdns from 'multicast-dns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MCPDiscoveryService, type RegistryErrorEvent } from '../src/discovery/index.js';
import { MulticastDiscovery, type MulticastDiscoveryOptions } from '../src/discovery/multicast-discovery.js';
import { startV2HttpServer } from './fixtures/http-servers.js';
import { eventually, nextEvent } from './support/eventually.js';
import { type AnnouncerOptions, probeMulticast, startAnnouncer } from './support/mdns-announcer.js';

/** A UDP port free now; every socket of the test binds it with SO_REUSEADDR, as mDNS sockets do. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

// A group of its own (administratively scoped, RFC 2365) and a port of its own per run.
const mdns: makeMdns.Options = {
  port: await freeUdpPort(),
  ip: `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`,
  interface: '127.0.0.1',
  loopback: true,
};
const probe = await probeMulticast(mdns);
const SKIPPED = `multicast is blocked in this sandbox: ${probe.reason}; the record handling is tested with real mDNS packets in src/discovery/multicast-discovery.test.ts`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startService(options: Partial<MulticastDiscoveryOptions> = {}) {
  const discovery = new MulticastDiscovery({ mdns, initialWaitMs: 200, ...options });
  const service = new MCPDiscoveryService({
    registryPath: null,
    methods: [discovery],
    pool: { healthChecks: false },
  });
  cleanups.push(() => service.close());
  return service;
}

async function announcer(options: Partial<AnnouncerOptions> & Pick<AnnouncerOptions, 'port'>) {
  const a = await startAnnouncer({
    mdns,
    instance: 'Weather',
    txt: ['name=weather', 'tools=echo', 'capabilities=forecast,alerts', 'version=1.2.0'],
    ...options,
  });
  cleanups.push(() => a.close());
  return a;
}

describe('multicast discovery over real multicast', () => {
  beforeEach((context) => {
    if (!probe.ok) context.skip(SKIPPED);
  });

  it('lists an announced MCP with its TXT metadata and the announced address, then its TXT change', async () => {
    const service = await startService();
    await service.initialize();
    expect(service.getMcp('weather')).toBeUndefined();

    const a = await announcer({ port: 4711, address: '127.0.0.1' });
    const discovered = nextEvent(service, 'mcp_discovered');
    await a.announce();
    expect(await discovered).toMatchObject({ mcp: 'weather', source: 'multicast' });
    expect(service.getMcp('weather')).toMatchObject({
      source: 'multicast',
      version: '1.2.0',
      tools: ['echo'],
      capabilities: ['forecast', 'alerts'],
      endpoints: [{ protocol: 'http', url: 'http://127.0.0.1:4711/mcp' }],
    });

    const updated = nextEvent(service, 'mcp_updated');
    await a.setTxt(['name=weather', 'tools=echo', 'capabilities=radar', 'path=/v2/mcp']);
    await updated;
    expect(service.getMcp('weather')).toMatchObject({
      capabilities: ['radar'],
      endpoints: [{ url: 'http://127.0.0.1:4711/v2/mcp' }],
    });
  });

  it('removes an MCP that says goodbye', async () => {
    const service = await startService();
    await service.initialize();
    const a = await announcer({ port: 4712 });
    const discovered = nextEvent(service, 'mcp_discovered');
    await a.announce();
    await discovered;

    const removed = nextEvent(service, 'mcp_removed');
    await a.goodbye();
    expect(await removed).toMatchObject({ mcp: 'weather', source: 'multicast' });
    expect(service.getMcp('weather')).toBeUndefined();
  });

  it('removes an MCP that falls silent once its TTL runs out', async () => {
    const service = await startService();
    await service.initialize();
    const a = await announcer({ port: 4713, ttl: 1 });
    const discovered = nextEvent(service, 'mcp_discovered');
    await a.announce();
    await discovered;

    // No goodbye: the server is gone and answers no refresh query.
    const removed = nextEvent(service, 'mcp_removed');
    await a.close();
    expect(await removed).toMatchObject({ mcp: 'weather' });
    expect(service.getMcp('weather')).toBeUndefined();
  });

  it('finds at start-up an MCP announced before, by asking', async () => {
    // This announcer never announces on its own: only a query makes it speak.
    const a = await announcer({ port: 4714 });
    const service = await startService();
    await service.initialize();
    await eventually(() => expect(service.getMcp('weather')).toMatchObject({ source: 'multicast' }));
    expect(a.questions).toContainEqual(expect.objectContaining({ name: '_mcp._tcp.local', type: 'PTR' }));
  });

  it('keeps an MCP past its TTL while its server answers the refresh queries', async () => {
    const service = await startService();
    await service.initialize();
    // 2 s: a shorter TTL would fall inside RFC 6762's one-second quiet time between two same questions.
    const a = await announcer({ port: 4716, ttl: 2 });
    const discovered = nextEvent(service, 'mcp_discovered');
    await a.announce();
    await discovered;
    const expiresAt = Date.now() + 2000;
    const removed: string[] = [];
    service.on('mcp_removed', (e) => removed.push(e.mcp));
    // Asked again before the records run out (RFC 6762 section 5.2: at 80 % of the TTL)...
    // (A generous deadline: on a loaded machine timers fire late, and every answer to a browse
    // query re-arms the refresh from the time it arrived.)
    await eventually(
      () => expect(a.questions).toContainEqual(expect.objectContaining({ name: a.fqdn, type: 'SRV' })),
      20_000,
    );
    // ...and, answered, still there well after the first TTL would have ended.
    await eventually(() => expect(Date.now()).toBeGreaterThan(expiresAt + 2000), 8000);
    expect(removed).toEqual([]);
    expect(service.getMcp('weather')).toMatchObject({ source: 'multicast' });
  }, 45_000);

  it('asks a minimal responder for the SRV, TXT and address its PTR left out', async () => {
    const service = await startService();
    await service.initialize();
    const a = await announcer({ port: 4715, minimal: true, host: 'minimal.local' });
    const discovered = nextEvent(service, 'mcp_discovered');
    await a.announce(['PTR']);
    await discovered;
    expect(service.getMcp('weather')!.endpoints[0]!.url).toBe('http://127.0.0.1:4715/mcp');
    const asked = a.questions.map((q) => `${q.name} ${q.type}`);
    expect(asked).toEqual(
      expect.arrayContaining([`${a.fqdn} SRV`, `${a.fqdn} TXT`, 'minimal.local A', 'minimal.local AAAA']),
    );
  });

  it('calls a tool of a real MCP server found by its announcement', async () => {
    const server = await startV2HttpServer();
    cleanups.push(() => server.close());
    const service = await startService();
    await service.initialize();
    const a = await announcer({
      port: server.port,
      address: '127.0.0.1',
      txt: ['name=echoes', `path=${new URL(server.url).pathname}`],
    });
    const discovered = nextEvent(service, 'mcp_discovered');
    await a.announce();
    await discovered;
    expect(service.getMcp('echoes')!.endpoints[0]!.url).toBe(server.url);
    expect(await service.pool.get('echoes')!.callTool('echo', { text: 'over mDNS' })).toMatchObject({
      text: 'over mDNS',
    });
  });
});

describe('multicast discovery socket errors', () => {
  it('reports a multicast group it cannot join, and keeps going', async () => {
    // 203.0.113.7 (TEST-NET-3) is no interface of this host.
    const service = await startService({ mdns: { ...mdns, interface: '203.0.113.7' }, initialWaitMs: 0 });
    const errors: RegistryErrorEvent[] = [];
    service.on('registry_error', (e) => errors.push(e));
    await service.initialize();
    await eventually(() =>
      expect(errors).toContainEqual(
        expect.objectContaining({
          source: 'multicast',
          error: expect.objectContaining({
            message: expect.stringContaining(`(${mdns.ip}:${mdns.port} on interface 203.0.113.7)`),
          }),
        }),
      ),
    );
    expect(service.getMcps()).toEqual([]);
  });

  it('reports a socket it cannot open without holding up start-up, and tries again', async () => {
    const discovery = new MulticastDiscovery({ mdns: { ...mdns, bind: '203.0.113.7' } });
    const service = new MCPDiscoveryService({
      registryPath: null,
      methods: [discovery],
      methodRetry: { initialMs: 20 },
    });
    cleanups.push(() => service.close());
    const errors: RegistryErrorEvent[] = [];
    service.on('registry_error', (e) => errors.push(e));
    await service.initialize();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'multicast' });
    expect(errors[0]!.error.message).toContain(`cannot listen on UDP port ${mdns.port}`);
    // The service reads the method again with backoff, which tries to open the socket again.
    await eventually(() => expect(errors.length).toBeGreaterThanOrEqual(3));
    expect(errors.every((e) => e.error.message.includes('cannot listen'))).toBe(true);
  });
});
