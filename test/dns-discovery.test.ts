/**
 * The dns discovery method against a real DNS server on 127.0.0.1 (dns2),
 * through the discovery service: SRV and TXT become MCPs with source `dns`,
 * record changes between polls become mcp_discovered / mcp_updated /
 * mcp_removed, a short TTL brings the next poll forward, a DNS outage keeps
 * the last good MCPs, DNS-SD PTR instances, truncated answers retried over
 * TCP, and a tool called on an MCP server found only through DNS.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DnsDiscovery, type DnsDiscoveryOptions } from '../src/discovery/dns-discovery.js';
import { MCPDiscoveryService, type RegistryErrorEvent } from '../src/discovery/index.js';
import { startV2HttpServer } from './fixtures/http-servers.js';
import { startDnsServer, type TestDnsServer, type TestRecord } from './support/dns-server.js';
import { eventually, nextEvent } from './support/eventually.js';

const SERVICE = '_mcp._tcp.services.test';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A DNS server with `records` and a discovery service reading it every `intervalMs`. */
async function setup(
  records: TestRecord[],
  options: Partial<DnsDiscoveryOptions> = {},
): Promise<{ dns: TestDnsServer; service: MCPDiscoveryService }> {
  const dns = await startDnsServer(records);
  cleanups.push(() => dns.close());
  const service = new MCPDiscoveryService({
    registryPath: null,
    methods: [
      new DnsDiscovery({
        names: [SERVICE],
        servers: [dns.address],
        intervalMs: 100,
        timeoutMs: 1000,
        minRefreshMs: 50,
        ...options,
      }),
    ],
    methodRetry: { initialMs: 50, maxMs: 200 },
    pool: { healthChecks: false },
  });
  cleanups.push(() => service.close());
  await service.initialize();
  return { dns, service };
}

const srv = (port: number, target: string, priority = 10, ttl = 60): TestRecord => ({
  type: 'SRV',
  name: SERVICE,
  port,
  target,
  priority,
  ttl,
});
const txt = (...data: string[]): TestRecord => ({ type: 'TXT', name: SERVICE, data });

describe('dns discovery', () => {
  it('lists what SRV and TXT records announce, with source dns, endpoint order and priority from SRV', async () => {
    const { service } = await setup([
      srv(8080, 'backup.services.test.', 20),
      srv(9090, 'main.services.test.', 10),
      txt('name=weather', 'path=/v1/mcp', 'tools=forecast,alerts', 'capabilities=weather', 'version=1.4.0'),
    ]);
    expect(service.getMcps()).toMatchObject([
      {
        name: 'weather',
        source: 'dns',
        priority: -10,
        version: '1.4.0',
        tools: ['forecast', 'alerts'],
        capabilities: ['weather'],
        endpoints: [
          { name: 'main.services.test:9090', protocol: 'http', url: 'http://main.services.test:9090/v1/mcp' },
          {
            name: 'backup.services.test:8080',
            protocol: 'http',
            url: 'http://backup.services.test:8080/v1/mcp',
          },
        ],
      },
    ]);
    expect(service.getMcpsByCapability('weather').map((m) => m.name)).toEqual(['weather']);
  });

  it('follows records changed between polls: new target, changed TXT, removed and back', async () => {
    const { dns, service } = await setup([srv(9090, 'a.services.test.'), txt('name=weather')]);
    expect(service.getMcp('weather')?.endpoints).toHaveLength(1);

    let updated = nextEvent(service, 'mcp_updated', (e: { mcp: string }) => e.mcp === 'weather');
    dns.records.push(srv(9091, 'b.services.test.', 5));
    await updated;
    expect(service.getMcp('weather')!.endpoints.map((e) => e.name)).toEqual([
      'b.services.test:9091',
      'a.services.test:9090',
    ]);
    expect(service.getMcp('weather')!.priority).toBe(-5);

    updated = nextEvent(service, 'mcp_updated', (e: { mcp: string }) => e.mcp === 'weather');
    dns.records = dns.records.map((r) =>
      r.type === 'TXT' ? txt('name=weather', 'capabilities=forecast') : r,
    );
    await updated;
    expect(service.getMcp('weather')!.capabilities).toEqual(['forecast']);

    const discovered = nextEvent(
      service,
      'mcp_discovered',
      (e: { mcp: string; source: string }) => e.mcp === 'weather',
    );
    const removed = nextEvent(
      service,
      'mcp_removed',
      (e: { mcp: string; source: string }) => e.mcp === 'weather',
    );
    dns.records = [];
    expect(await removed).toMatchObject({ mcp: 'weather', source: 'dns' });
    expect(service.getMcps()).toEqual([]);
    dns.records = [srv(9090, 'a.services.test.'), txt('name=weather')];
    expect(await discovered).toMatchObject({ mcp: 'weather', source: 'dns' });
  });

  it('polls sooner than the interval when a TTL runs out first', async () => {
    // An interval far beyond the event wait: only the 1 s TTL can bring the change in time.
    const { dns, service } = await setup([srv(9090, 'a.services.test.', 10, 1), txt('name=weather')], {
      intervalMs: 600_000,
      minRefreshMs: 200,
    });
    const updated = nextEvent(service, 'mcp_updated', (e: { mcp: string }) => e.mcp === 'weather');
    dns.records.push(srv(9091, 'b.services.test.', 20, 1));
    await updated;
    expect(service.getMcp('weather')!.endpoints).toHaveLength(2);
  });

  it('keeps the last good MCPs while the DNS server is down, reports it, and recovers', async () => {
    const { dns, service } = await setup([srv(9090, 'a.services.test.'), txt('name=weather')]);
    const failed = nextEvent<RegistryErrorEvent>(service, 'registry_error', (e) => e.source === 'dns');
    await dns.down();
    const error = await failed;
    expect(error.error.message).toContain(`cannot resolve ${SERVICE}`);
    expect(error.error.message).toContain(dns.address);
    // Polls keep failing; the MCP stays.
    await nextEvent<RegistryErrorEvent>(service, 'registry_error', (e) => e.source === 'dns');
    expect(service.getMcp('weather')).toMatchObject({ source: 'dns' });

    dns.records = [srv(9090, 'a.services.test.'), txt('name=weather', 'capabilities=back')];
    const updated = nextEvent(service, 'mcp_updated', (e: { mcp: string }) => e.mcp === 'weather');
    await dns.up();
    await updated;
    expect(service.getMcp('weather')!.capabilities).toEqual(['back']);
  });

  it('keeps a failing name at its last good answer while the other names move on, and says which', async () => {
    const OTHER = '_mcp._tcp.other.test';
    const { dns, service } = await setup(
      [
        srv(9090, 'a.services.test.'),
        txt('name=weather'),
        { type: 'SRV', name: OTHER, port: 9191, target: 'b.other.test.', priority: 10, ttl: 60 },
        { type: 'TXT', name: OTHER, data: ['name=maps'] },
      ],
      { names: [SERVICE, OTHER] },
    );
    expect(
      service
        .getMcps()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['maps', 'weather']);
    const failed = nextEvent<RegistryErrorEvent>(service, 'registry_error', (e) => e.source === 'dns');
    dns.failing.add(OTHER);
    expect((await failed).error.message).toBe(
      `cannot resolve ${OTHER}: DNS PTR query for ${OTHER} failed: ${dns.address} answered SERVFAIL`,
    );
    // The good name still moves: its MCP changes while the failing one keeps its last answer.
    dns.records[1] = txt('name=weather', 'capabilities=fresh');
    await eventually(() => expect(service.getMcp('weather')!.capabilities).toEqual(['fresh']));
    expect(service.getMcp('maps')).toMatchObject({ source: 'dns' });
    expect(service.getMcp('maps')!.endpoints[0]).toMatchObject({ url: 'http://b.other.test:9191/mcp' });
  });

  it('reads DNS-SD instances listed by PTR records, with or without additional records', async () => {
    const instance = (label: string, port: number, ...data: string[]): TestRecord[] => [
      { type: 'PTR', name: SERVICE, domain: `${label}.${SERVICE}` },
      {
        type: 'SRV',
        name: `${label}.${SERVICE}`,
        port,
        target: `${label.toLowerCase()}.hosts.test.`,
        priority: 0,
      },
      { type: 'TXT', name: `${label}.${SERVICE}`, data },
    ];
    const { dns, service } = await setup([
      ...instance('Weather', 8001, 'capabilities=weather'),
      ...instance('Search', 8002, 'name=finder', 'path=/rpc'),
      // No SRV behind this pointer: skipped and reported, the others stay.
      { type: 'PTR', name: SERVICE, domain: `Stale.${SERVICE}` },
    ]);
    expect(service.getMcps().map((m) => [m.name, m.endpoints[0]!.url])).toEqual([
      ['finder', 'http://search.hosts.test:8002/rpc'],
      ['weather', 'http://weather.hosts.test:8001/mcp'],
    ]);
    // The SRV and TXT came along with the PTR answer; only the stale instance was asked for.
    expect(dns.queries.filter((q) => q.type !== 'PTR').map((q) => q.name)).toEqual(
      expect.arrayContaining([`Stale.${SERVICE}`]),
    );
    expect(dns.queries.filter((q) => q.type !== 'PTR' && !q.name.startsWith('Stale'))).toEqual([]);

    // A server that sends no additional records is asked for each instance.
    dns.additionals = false;
    const updated = nextEvent(service, 'mcp_updated', (e: { mcp: string }) => e.mcp === 'weather');
    dns.records = dns.records.map((r) =>
      r.type === 'TXT' && r.name.startsWith('Weather') ? { ...r, data: ['capabilities=weather,radar'] } : r,
    );
    await updated;
    expect(service.getMcp('weather')!.capabilities).toEqual(['weather', 'radar']);
    expect(dns.queries.some((q) => q.type === 'TXT' && q.name === `Weather.${SERVICE}`)).toBe(true);
  });

  it('reports a bad instance through registry_error and keeps the good ones', async () => {
    const errors: RegistryErrorEvent[] = [];
    const dns = await startDnsServer([
      { type: 'PTR', name: SERVICE, domain: `Good.${SERVICE}` },
      { type: 'SRV', name: `Good.${SERVICE}`, port: 8001, target: 'good.hosts.test.' },
      { type: 'PTR', name: SERVICE, domain: `Bad.${SERVICE}` },
      { type: 'SRV', name: `Bad.${SERVICE}`, port: 8002, target: 'bad.hosts.test.' },
      { type: 'TXT', name: `Bad.${SERVICE}`, data: ['protocol=stdio'] },
    ]);
    cleanups.push(() => dns.close());
    const service = new MCPDiscoveryService({
      registryPath: null,
      methods: [new DnsDiscovery({ names: [SERVICE], servers: [dns.address], intervalMs: 100 })],
      pool: { healthChecks: false },
    });
    service.on('registry_error', (e) => errors.push(e));
    cleanups.push(() => service.close());
    await service.initialize();
    expect(service.getMcps().map((m) => m.name)).toEqual(['good']);
    await eventually(() => expect(errors).toHaveLength(1));
    expect(errors[0]).toMatchObject({
      source: 'dns',
      errors: [
        {
          path: `Bad.${SERVICE} TXT protocol`,
          message: "expected one of http, streamable-http, got 'stdio'",
        },
      ],
    });
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const dns = await startDnsServer([srv(9090, 'a.services.test.'), txt('name=weather')]);
    dns.truncateUdp = true;
    cleanups.push(() => dns.close());
    const method = new DnsDiscovery({ names: [SERVICE], servers: [dns.address], timeoutMs: 1000 });
    expect(Object.keys(await method.discoverMcps())).toEqual(['weather']);
    expect(dns.queries.map((q) => `${q.type}/${q.transport}`)).toEqual(
      expect.arrayContaining(['PTR/udp', 'PTR/tcp', 'SRV/udp', 'SRV/tcp', 'TXT/udp', 'TXT/tcp']),
    );
  });

  it('calls a tool on an MCP server found only through DNS', async () => {
    const mcp = await startV2HttpServer();
    cleanups.push(() => mcp.close());
    const { service } = await setup([
      srv(mcp.port, '127.0.0.1'),
      txt('name=echoer', 'path=/mcp', 'tools=echo'),
    ]);
    expect(service.getMcp('echoer')!.endpoints[0]!.url).toBe(mcp.url);
    expect(await service.pool.get('echoer')!.callTool('echo', { text: 'found in DNS' })).toMatchObject({
      text: 'found in DNS',
    });
  });
});
