/** The mDNS record cache: lifetimes, goodbyes, cache-flush and refresh times, fed real wire packets. */
import { type Answer, decode, encode } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { MdnsCache } from './mdns-cache.js';

/** The records as a querier receives them: encoded to mDNS wire bytes and decoded again. */
function wire(...answers: Answer[]): Answer[] {
  return decode(encode({ type: 'response', answers })).answers ?? [];
}

const txt = (data: string[], ttl = 100, flush = true): Answer => ({
  name: 'Weather._mcp._tcp.local',
  type: 'TXT',
  ttl,
  flush,
  data,
});
const texts = (cache: MdnsCache) =>
  cache.get('weather._MCP._tcp.local.', 'TXT').map((r) => r.data.map((s) => Buffer.from(s).toString()));

function clock(start = 1_000_000) {
  const c = { now: start, tick: (ms: number) => (c.now += ms) };
  return c;
}

describe('MdnsCache', () => {
  it('keeps a record for its TTL, matching names without case', () => {
    const c = clock();
    const cache = new MdnsCache(() => c.now);
    cache.add(wire(txt(['a=1'], 10)));
    c.tick(9_999);
    expect(texts(cache)).toEqual([['a=1']]);
    c.tick(1);
    expect(texts(cache)).toEqual([]);
    expect(cache.prune()).toBe(true);
    expect(cache.nextDue()).toBeUndefined();
  });

  it('removes a record on its goodbye (TTL 0) at once, and only that record', () => {
    const c = clock();
    const cache = new MdnsCache(() => c.now);
    cache.add(wire(txt(['a=1'], 100, false), txt(['b=2'], 100, false)));
    cache.add(wire(txt(['a=1'], 0)));
    expect(texts(cache)).toEqual([['b=2']]);
  });

  it('lets a cache-flush record replace what was received over a second before, one second later', () => {
    const c = clock();
    const cache = new MdnsCache(() => c.now);
    cache.add(wire(txt(['v=old'])));
    c.tick(5_000);
    cache.add(wire(txt(['v=new'])));
    expect(texts(cache)).toEqual([['v=new'], ['v=old']]);
    c.tick(1_000);
    expect(texts(cache)).toEqual([['v=new']]);
  });

  it('keeps records of the same set received within the last second (several packets of one answer)', () => {
    const c = clock();
    const cache = new MdnsCache(() => c.now);
    cache.add(wire({ name: 'host.local', type: 'A', ttl: 120, flush: true, data: '10.0.0.1' }));
    c.tick(300);
    cache.add(wire({ name: 'host.local', type: 'A', ttl: 120, flush: true, data: '10.0.0.2' }));
    c.tick(60_000);
    expect(cache.get('host.local', 'A').map((r) => r.data)).toEqual(['10.0.0.2', '10.0.0.1']);
  });

  it('falls due to be asked for again at 80, 85, 90 and 95 % of the TTL, then expires', () => {
    const c = clock(0);
    const cache = new MdnsCache(
      () => c.now,
      () => 0,
    );
    cache.add(wire(txt(['a=1'], 100)));
    const dues: number[] = [];
    for (let due = cache.nextDue(); due !== undefined && dues.length < 10; due = cache.nextDue()) {
      dues.push(due);
      c.now = due;
      expect(cache.takeRefreshes().length + (cache.prune() ? 1 : 0)).toBe(1);
    }
    expect(dues).toEqual([80_000, 85_000, 90_000, 95_000, 100_000]);
  });

  it('starts the refresh times again when the record is received again, and remembers when it was first', () => {
    const c = clock(0);
    const cache = new MdnsCache(
      () => c.now,
      () => 0,
    );
    cache.add(wire(txt(['a=1'], 100)));
    c.now = 80_000;
    expect(cache.takeRefreshes()).toHaveLength(1);
    cache.add(wire(txt(['a=1'], 100)));
    expect(cache.nextDue()).toBe(160_000);
    expect(cache.get('Weather._mcp._tcp.local', 'TXT')[0]!.firstReceivedAt).toBe(0);
  });
});
