/**
 * The dns method's logic over an in-memory zone: DNS-SD (PTR) and plain SRV
 * names, additional records used instead of asking again, bad instances
 * skipped and reported once, failures, and when the next read is due
 * (fake timers; the wire is covered by dns-client.test.ts and test/).
 */
import type { Answer } from 'dns-packet';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, OrchestratorError } from '../engine/index.js';
import type { DnsResponse } from './dns-client.js';
import { DnsDiscovery, type DnsResolver } from './dns-discovery.js';

const SERVICE = '_mcp._tcp.example.com';

const ptr = (name: string, instance: string, ttl = 300): Answer => ({
  type: 'PTR',
  name,
  ttl,
  data: instance,
});
const srv = (name: string, port: number, target: string, priority = 10, ttl = 300): Answer => ({
  type: 'SRV',
  name,
  ttl,
  data: { priority, weight: 0, port, target },
});
const txt = (name: string, strings: string[], ttl = 300): Answer => ({
  type: 'TXT',
  name,
  ttl,
  data: strings.map((s) => Buffer.from(s)),
});

/** A zone answering from `records` (by `TYPE name`), counting what was asked. */
function zone(records: Record<string, { answers: Answer[]; additionals?: Answer[] }>) {
  const asked: string[] = [];
  const failing = new Set<string>();
  const resolver: DnsResolver & { close: ReturnType<typeof vi.fn> } = {
    async query(name, type): Promise<DnsResponse> {
      const key = `${type} ${name}`;
      asked.push(key);
      if (failing.has(key))
        throw new OrchestratorError(
          ErrorCode.DiscoveryFailed,
          `DNS ${key} failed: 10.0.0.53:53 answered SERVFAIL`,
        );
      const answers = records[key]?.answers ?? [];
      const ttls = answers.map((a) => ('ttl' in a ? (a.ttl ?? 0) : 0));
      return {
        rcode: answers.length > 0 ? 'NOERROR' : 'NXDOMAIN',
        answers,
        additionals: records[key]?.additionals ?? [],
        ttl: ttls.length > 0 ? Math.min(...ttls) : undefined,
        server: '10.0.0.53:53',
      };
    },
    close: vi.fn(),
  };
  return { resolver, asked, failing, records };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('DnsDiscovery.discoverMcps', () => {
  it('reads DNS-SD instances from PTR records, using the SRV and TXT the server added', async () => {
    const weather = `Weather._mcp._tcp.example.com`;
    const search = `search._mcp._tcp.example.com`;
    const z = zone({
      [`PTR ${SERVICE}`]: {
        answers: [ptr(SERVICE, weather), ptr(SERVICE, search)],
        additionals: [
          srv(weather, 8080, 'b.example.com.', 20),
          srv(weather, 9090, 'a.example.com.', 10),
          txt(weather, ['path=/v1/mcp', 'tools=forecast,alerts', 'capabilities=weather']),
        ],
      },
      [`SRV ${search}`]: { answers: [srv(search, 3000, 'search.example.com.')] },
      [`TXT ${search}`]: { answers: [txt(search, ['name=finder', 'scheme=https'])] },
    });
    const d = new DnsDiscovery({ names: [SERVICE], resolver: z.resolver });
    expect(await d.discoverMcps()).toEqual({
      weather: {
        endpoints: {
          'a.example.com:9090': { protocol: 'http', url: 'http://a.example.com:9090/v1/mcp' },
          'b.example.com:8080': { protocol: 'http', url: 'http://b.example.com:8080/v1/mcp' },
        },
        priority: -10,
        tools: ['forecast', 'alerts'],
        capabilities: ['weather'],
      },
      finder: {
        endpoints: {
          'search.example.com:3000': { protocol: 'http', url: 'https://search.example.com:3000/mcp' },
        },
        priority: -10,
      },
    });
    // The weather instance came whole with the PTR answer: nothing more was asked for it.
    expect(z.asked.sort()).toEqual([`PTR ${SERVICE}`, `SRV ${search}`, `TXT ${search}`].sort());
  });

  it('reads SRV and TXT at the name itself when it has no PTR records, and nothing when it has no SRV', async () => {
    const z = zone({
      'SRV _mcp._tcp.tools.example.com': {
        answers: [srv('_mcp._tcp.tools.example.com', 7000, '10.1.2.3')],
      },
      'TXT _mcp._tcp.tools.example.com': {
        answers: [txt('_mcp._tcp.tools.example.com', ['version=1.2.0'])],
      },
    });
    const d = new DnsDiscovery({
      names: ['_mcp._tcp.tools.example.com', '_mcp._tcp.empty.example.com'],
      resolver: z.resolver,
    });
    expect(await d.discoverMcps()).toEqual({
      'tools.example.com': {
        endpoints: { '10.1.2.3:7000': { protocol: 'http', url: 'http://10.1.2.3:7000/mcp' } },
        priority: -10,
        version: '1.2.0',
      },
    });
  });

  it('skips a bad instance and a name clash, reports them once, and keeps the others', async () => {
    const names = ['a', 'b', 'c', 'd'].map((l) => `${l}._mcp._tcp.example.com`);
    const [a, b, c, d] = names as [string, string, string, string];
    const z = zone({
      [`PTR ${SERVICE}`]: { answers: [d, c, b, a].map((n) => ptr(SERVICE, n)) },
      [`SRV ${a}`]: { answers: [srv(a, 1, 'a.example.com')] },
      [`TXT ${a}`]: { answers: [txt(a, ['name=shared'])] },
      [`SRV ${b}`]: { answers: [srv(b, 2, 'b.example.com')] },
      [`TXT ${b}`]: { answers: [txt(b, ['name=shared'])] },
      [`SRV ${c}`]: { answers: [srv(c, 3, 'c.example.com')] },
      [`TXT ${c}`]: { answers: [txt(c, ['protocol=stdio'])] },
      [`SRV ${d}`]: { answers: [srv(d, 4, 'bad host.example.com')] },
    });
    const discovery = new DnsDiscovery({ names: [SERVICE], resolver: z.resolver });
    const entries = await discovery.discoverMcps();
    expect(Object.keys(entries)).toEqual(['shared']);
    expect(entries.shared!.endpoints['a.example.com:1']).toBeDefined();

    // Found before watching: said when watching starts, then not again while nothing changes.
    const errors: unknown[] = [];
    const stop = discovery.watch(
      () => undefined,
      (e) => errors.push(e),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: 'ORCH_REGISTRY_INVALID',
      errors: [
        { path: b, message: `declares MCP 'shared', which ${a} declared first` },
        { path: `${c} TXT protocol`, message: "expected one of http, streamable-http, got 'stdio'" },
        { path: d, message: expect.stringContaining('url must be an http:// or https:// URL') },
      ],
    });
    await discovery.discoverMcps();
    expect(errors).toHaveLength(1);

    // Mended: no more report; broken another way: reported again.
    z.records[`TXT ${c}`] = { answers: [txt(c, ['name=third'])] };
    z.records[`SRV ${d}`] = { answers: [srv(d, 4, 'd.example.com')] };
    z.records[`TXT ${b}`] = { answers: [txt(b, ['name=second'])] };
    expect(Object.keys(await discovery.discoverMcps()).sort()).toEqual(['d', 'second', 'shared', 'third']);
    expect(errors).toHaveLength(1);
    z.records[`TXT ${b}`] = { answers: [txt(b, ['priority=high'])] };
    await discovery.discoverMcps();
    expect(errors).toHaveLength(2);
    expect((errors[1] as Error).message).toContain(`${b} TXT priority: expected an integer, got 'high'`);
    stop();
  });

  it('counts an instance reached through two configured names once', async () => {
    const shared = `one._mcp._tcp.example.com`;
    const z = zone({
      [`PTR ${SERVICE}`]: { answers: [ptr(SERVICE, shared)] },
      'PTR _mcp._tcp.other.example.com': { answers: [ptr('_mcp._tcp.other.example.com', shared)] },
      [`SRV ${shared}`]: { answers: [srv(shared, 1, 'one.example.com')] },
    });
    const errors: unknown[] = [];
    const discovery = new DnsDiscovery({
      names: [SERVICE, '_mcp._tcp.other.example.com'],
      resolver: z.resolver,
    });
    const stop = discovery.watch(
      () => undefined,
      (e) => errors.push(e),
    );
    expect(Object.keys(await discovery.discoverMcps())).toEqual(['one']);
    expect(errors).toEqual([]);
    stop();
  });

  it('fails naming each name when none can be read', async () => {
    const OTHER = '_mcp._tcp.other.example.com';
    const z = zone({});
    z.failing.add(`PTR ${SERVICE}`);
    z.failing.add(`PTR ${OTHER}`);
    const d = new DnsDiscovery({ names: [OTHER, SERVICE], resolver: z.resolver });
    await expect(d.discoverMcps()).rejects.toMatchObject({
      code: 'ORCH_DISCOVERY_FAILED',
      message:
        `cannot resolve ${OTHER}: DNS PTR ${OTHER} failed: 10.0.0.53:53 answered SERVFAIL; ` +
        `cannot resolve ${SERVICE}: DNS PTR ${SERVICE} failed: 10.0.0.53:53 answered SERVFAIL`,
      errors: [
        { path: OTHER, message: `DNS PTR ${OTHER} failed: 10.0.0.53:53 answered SERVFAIL` },
        { path: SERVICE, message: `DNS PTR ${SERVICE} failed: 10.0.0.53:53 answered SERVFAIL` },
      ],
    });
  });

  it('reads the names it can when one fails, keeps the failing one at its last answer, and reports it once', async () => {
    const OK = '_mcp._tcp.ok.example.com';
    const z = zone({
      [`SRV ${OK}`]: { answers: [srv(OK, 1, 'ok')] },
      [`SRV ${SERVICE}`]: { answers: [srv(SERVICE, 1, 'a.example.com')] },
    });
    const d = new DnsDiscovery({ names: [OK, SERVICE], resolver: z.resolver });
    const reported: string[] = [];
    const stop = d.watch(
      () => undefined,
      (error) => reported.push((error as Error).message),
    );
    try {
      const both = Object.keys(await d.discoverMcps()).sort();
      expect(both).toHaveLength(2);
      z.failing.add(`PTR ${SERVICE}`);
      expect(Object.keys(await d.discoverMcps()).sort()).toEqual(both);
      expect(Object.keys(await d.discoverMcps()).sort()).toEqual(both);
      expect(reported).toEqual([
        `cannot resolve ${SERVICE}: DNS PTR ${SERVICE} failed: 10.0.0.53:53 answered SERVFAIL`,
      ]);
      // Before its first good answer, a failing name has nothing to keep.
      const fresh = new DnsDiscovery({ names: [OK, SERVICE], resolver: z.resolver });
      expect(Object.keys(await fresh.discoverMcps())).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it('shares a read in flight between callers', async () => {
    const z = zone({});
    const d = new DnsDiscovery({ names: [SERVICE], resolver: z.resolver });
    await Promise.all([d.discoverMcps(), d.discoverMcps()]);
    expect(z.asked.filter((k) => k.startsWith('PTR'))).toHaveLength(1);
    await d.discoverMcps();
    expect(z.asked.filter((k) => k.startsWith('PTR'))).toHaveLength(2);
  });
});

describe('DnsDiscovery.watch', () => {
  const plain = (ttl: number) =>
    zone({ [`SRV ${SERVICE}`]: { answers: [srv(SERVICE, 1, 'a.example.com', 10, ttl)] } });

  /** Watches as the discovery service does: each onChange reads; returns when (fake ms) that happened. */
  const watchLikeTheService = (d: DnsDiscovery) => {
    const start = Date.now();
    const calls: number[] = [];
    const stop = d.watch(() => {
      calls.push(Date.now() - start);
      d.discoverMcps().catch(() => undefined);
    });
    return { calls, stop };
  };

  it('asks for a read at the interval when TTLs are longer', async () => {
    vi.useFakeTimers();
    const z = plain(3600);
    const d = new DnsDiscovery({ names: [SERVICE], resolver: z.resolver, intervalMs: 30_000 });
    await d.discoverMcps();
    const { calls } = watchLikeTheService(d);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_001);
    expect(calls).toEqual([30_000, 60_000, 90_000]);
  });

  it('asks sooner when a TTL runs out first, but never sooner than minRefreshMs', async () => {
    vi.useFakeTimers();
    const z = plain(5);
    const d = new DnsDiscovery({
      names: [SERVICE],
      resolver: z.resolver,
      intervalMs: 30_000,
      minRefreshMs: 2000,
    });
    await d.discoverMcps();
    const { calls } = watchLikeTheService(d);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toEqual([5000]);
    // A TTL of 0 (an answer at the very end of a cache's life) waits minRefreshMs.
    z.records[`SRV ${SERVICE}`] = { answers: [srv(SERVICE, 1, 'a.example.com', 10, 0)] };
    await vi.advanceTimersByTimeAsync(9000);
    expect(calls).toEqual([5000, 10_000, 12_000, 14_000]);
  });

  it('after a failed read, asks again at the interval at the latest', async () => {
    vi.useFakeTimers();
    const z = plain(5);
    const d = new DnsDiscovery({ names: [SERVICE], resolver: z.resolver, intervalMs: 30_000 });
    await d.discoverMcps();
    z.failing.add(`PTR ${SERVICE}`);
    const { calls } = watchLikeTheService(d);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toEqual([5000]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toEqual([5000, 35_000, 65_000]);
  });

  it('asks at the interval even when a call brings no read', async () => {
    vi.useFakeTimers();
    const d = new DnsDiscovery({ names: [SERVICE], resolver: plain(5).resolver, intervalMs: 30_000 });
    await d.discoverMcps();
    const onChange = vi.fn();
    d.watch(onChange);
    await vi.advanceTimersByTimeAsync(5000 + 30_000);
    expect(onChange).toHaveBeenCalledTimes(2);
  });

  it('stops: no more calls, its resolver closed (which ends queries in flight, see dns-client), no timers left', async () => {
    vi.useFakeTimers();
    const z = plain(5);
    const d = new DnsDiscovery({ names: [SERVICE], resolver: z.resolver, intervalMs: 1000 });
    const onChange = vi.fn();
    const stop = d.watch(onChange);
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onChange).not.toHaveBeenCalled();
    expect(z.resolver.close).toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
