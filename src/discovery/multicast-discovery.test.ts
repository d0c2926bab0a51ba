/**
 * The multicast method's record handling without a network: real mDNS
 * responses (encoded to wire bytes by dns-packet and decoded again, as the
 * socket would) fed to `handleResponse`, on fake timers for TTLs. The
 * socket side is tested over real multicast in test/multicast-discovery.test.ts.
 */
import { type Answer, AUTHORITATIVE_ANSWER, decode, encode, type Packet } from 'dns-packet';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isOrchestratorError } from '../engine/index.js';
import { MulticastDiscovery } from './multicast-discovery.js';

const SERVICE = '_mcp._tcp.local';

/** A packet as the socket delivers it: mDNS wire bytes decoded by dns-packet. */
function wire(packet: Packet): Packet {
  return decode(encode({ flags: AUTHORITATIVE_ANSWER, ...packet }));
}

interface Announced {
  instance?: string;
  txt?: string[];
  port?: number;
  host?: string;
  addresses?: string[];
  ttl?: number;
}

/** An instance's records: PTR, SRV, TXT, and A/AAAA for each address. */
function records({
  instance = 'Weather',
  txt = ['name=weather', 'tools=forecast', 'capabilities=weather,alerts', 'version=2.0.0'],
  port = 8080,
  host = 'weather-host.local',
  addresses = ['192.168.1.20'],
  ttl = 120,
}: Announced = {}): { ptr: Answer; srv: Answer; txt: Answer; addresses: Answer[] } {
  const fqdn = `${instance}.${SERVICE}`;
  return {
    ptr: { name: SERVICE, type: 'PTR', ttl, data: fqdn },
    srv: { name: fqdn, type: 'SRV', ttl, flush: true, data: { priority: 0, weight: 0, port, target: host } },
    txt: { name: fqdn, type: 'TXT', ttl, flush: true, data: txt },
    addresses: addresses.map((address) => ({
      name: host,
      type: address.includes(':') ? 'AAAA' : 'A',
      ttl,
      flush: true,
      data: address,
    })),
  };
}

/** The usual announcement: the PTR as the answer, the rest as additional records. */
function announcement(options: Announced = {}): Packet {
  const r = records(options);
  return wire({ type: 'response', answers: [r.ptr], additionals: [r.srv, r.txt, ...r.addresses] });
}

function goodbye(options: Announced = {}): Packet {
  const r = records({ ...options, ttl: 0 });
  return wire({ type: 'response', answers: [r.ptr, r.srv, r.txt, ...r.addresses] });
}

let discovery: MulticastDiscovery;
let changes: number;
let errors: unknown[];
let stop: () => Promise<void>;

beforeEach(() => {
  vi.useFakeTimers();
  discovery = new MulticastDiscovery({ listen: false });
  changes = 0;
  errors = [];
  stop = discovery.watch(
    () => (changes += 1),
    (error) => errors.push(error),
  );
});
afterEach(async () => {
  await stop();
  vi.useRealTimers();
});

describe('MulticastDiscovery record handling', () => {
  it("answers an announced instance with its TXT metadata and its host's IPv4 address", async () => {
    discovery.handleResponse(announcement({ addresses: ['fd00::20', '192.168.1.20'] }));
    expect(changes).toBe(1);
    expect(await discovery.discoverMcps()).toEqual({
      weather: {
        endpoints: { '192.168.1.20:8080': { protocol: 'http', url: 'http://192.168.1.20:8080/mcp' } },
        priority: 0,
        tools: ['forecast'],
        capabilities: ['weather', 'alerts'],
        version: '2.0.0',
      },
    });
    expect(errors).toEqual([]);
  });

  it('reads a response that carries every record as additional records, names in any case', async () => {
    const r = records({ instance: 'Search', txt: ['path=/v1/mcp'] });
    const upper = { ...r.ptr, data: 'SEARCH._MCP._TCP.LOCAL' } as Answer;
    discovery.handleResponse(wire({ type: 'response', additionals: [upper, r.srv, r.txt, ...r.addresses] }));
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['search']);
    expect((await discovery.discoverMcps()).search!.endpoints['192.168.1.20:8080']!.url).toBe(
      'http://192.168.1.20:8080/v1/mcp',
    );
  });

  it("ignores queries (their answers are another querier's known answers) and other services", async () => {
    const r = records();
    discovery.handleResponse(
      wire({ type: 'query', questions: [{ name: SERVICE, type: 'PTR' }], answers: [r.ptr] }),
    );
    const other = records({ instance: 'Printer' });
    discovery.handleResponse(
      wire({
        type: 'response',
        answers: [{ ...other.ptr, name: '_ipp._tcp.local', data: 'Printer._ipp._tcp.local' } as Answer],
        additionals: [{ ...other.srv, name: 'Printer._ipp._tcp.local' } as Answer],
      }),
    );
    expect(await discovery.discoverMcps()).toEqual({});
    expect(changes).toBe(0);
  });

  it('removes an instance that says goodbye, and tells the watcher', async () => {
    discovery.handleResponse(announcement());
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['weather']);
    discovery.handleResponse(goodbye());
    expect(changes).toBe(2);
    expect(await discovery.discoverMcps()).toEqual({});
  });

  it('removes an instance whose TTL runs out, unless it is announced again first', async () => {
    discovery.handleResponse(announcement({ instance: 'Lasting', txt: ['name=lasting'], ttl: 10 }));
    discovery.handleResponse(announcement({ instance: 'Fading', txt: ['name=fading'], ttl: 10 }));
    expect(Object.keys(await discovery.discoverMcps()).sort()).toEqual(['fading', 'lasting']);
    vi.advanceTimersByTime(8_500);
    // Lasting answers the refresh query; Fading does not.
    discovery.handleResponse(announcement({ instance: 'Lasting', txt: ['name=lasting'], ttl: 10 }));
    const before = changes;
    vi.advanceTimersByTime(1_499);
    expect(changes).toBe(before);
    vi.advanceTimersByTime(1);
    expect(changes).toBe(before + 1);
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['lasting']);
  });

  it('takes a changed TXT sent with the cache-flush bit', async () => {
    discovery.handleResponse(announcement());
    await discovery.discoverMcps();
    vi.advanceTimersByTime(5_000);
    const r = records({ txt: ['name=weather', 'capabilities=radar'] });
    discovery.handleResponse(wire({ type: 'response', answers: [r.txt] }));
    expect(changes).toBe(2);
    expect((await discovery.discoverMcps()).weather!.capabilities).toEqual(['radar']);
    vi.advanceTimersByTime(1_000);
    expect((await discovery.discoverMcps()).weather!.capabilities).toEqual(['radar']);
  });

  it('reports an instance with a malformed TXT once, naming it and its sender, and keeps the others', async () => {
    discovery.handleResponse(announcement());
    discovery.handleResponse(
      announcement({ instance: 'Broken', txt: ['name=Bad Name!', 'protocol=gopher'] }),
      {
        address: '192.168.1.30',
      },
    );
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['weather']);
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['weather']);
    expect(errors).toHaveLength(1);
    const error = errors[0];
    expect(isOrchestratorError(error) && error.code).toBe('ORCH_REGISTRY_INVALID');
    expect((error as Error).message).toContain('announced by 192.168.1.30');
    expect(isOrchestratorError(error) && error.errors?.map((e) => e.path)).toEqual([
      'Broken._mcp._tcp.local TXT name',
      'Broken._mcp._tcp.local TXT protocol',
    ]);
  });

  it('reports the second of two instances with the same name', async () => {
    discovery.handleResponse(announcement({ instance: 'A' }));
    discovery.handleResponse(announcement({ instance: 'B', port: 9090 }));
    const found = await discovery.discoverMcps();
    expect(Object.keys(found)).toEqual(['weather']);
    expect(found.weather!.endpoints['192.168.1.20:8080']).toBeDefined();
    expect(String(errors[0])).toContain("another instance is named 'weather'");
  });

  it('skips an instance the registry would refuse, rather than the whole answer', async () => {
    discovery.handleResponse(announcement());
    discovery.handleResponse(
      announcement({ instance: 'Odd', txt: ['name=odd'], host: 'bad host.local', addresses: [] }),
    );
    vi.advanceTimersByTime(1_000);
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['weather']);
    expect(errors).toHaveLength(1);
  });

  it("waits a moment for the host's address, then uses its name until the address comes", async () => {
    discovery.handleResponse(announcement({ addresses: [] }));
    expect(await discovery.discoverMcps()).toEqual({});
    vi.advanceTimersByTime(1_000);
    expect(changes).toBe(1);
    expect((await discovery.discoverMcps()).weather!.endpoints).toEqual({
      'weather-host.local:8080': { protocol: 'http', url: 'http://weather-host.local:8080/mcp' },
    });
    const r = records({ addresses: ['fe80::1', 'fd00::20'] });
    discovery.handleResponse(wire({ type: 'response', answers: r.addresses }));
    expect(changes).toBe(2);
    // Link-local IPv6 needs a zone a URL cannot carry: the routable address is used.
    expect((await discovery.discoverMcps()).weather!.endpoints['fd00::20:8080']!.url).toBe(
      'http://[fd00::20]:8080/mcp',
    );
  });

  it('shows no instance until its TXT is known', async () => {
    const r = records();
    discovery.handleResponse(wire({ type: 'response', answers: [r.ptr, r.srv, ...r.addresses] }));
    expect(await discovery.discoverMcps()).toEqual({});
    discovery.handleResponse(wire({ type: 'response', answers: [r.txt] }));
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['weather']);
  });

  it('tells a watcher that starts late of what came after the last read', async () => {
    await stop();
    const late = new MulticastDiscovery({ listen: false });
    expect(await late.discoverMcps()).toEqual({});
    late.handleResponse(announcement());
    let told = 0;
    stop = late.watch(() => (told += 1));
    expect(told).toBe(1);
  });
});
