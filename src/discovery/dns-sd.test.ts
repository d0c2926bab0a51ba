/** DNS-SD instances as MCPs: TXT parsing, SRV order, names, and what is refused. */
import { describe, expect, it } from 'vitest';
import { defaultMcpName, entryFromInstance, parseTxt } from './dns-sd.js';

describe('parseTxt', () => {
  it('reads key=value strings as RFC 6763 says: case-insensitive keys, first wins, bare keys empty', () => {
    const txt = parseTxt([
      'Name=weather',
      'name=other',
      Buffer.from('path=/v1/mcp'),
      'flag',
      '=nokey',
      'a=b=c',
    ]);
    expect(Object.fromEntries(txt)).toEqual({ name: 'weather', path: '/v1/mcp', flag: '', a: 'b=c' });
  });
});

describe('defaultMcpName', () => {
  it('takes the instance label, or the domain of a service name queried directly', () => {
    expect(defaultMcpName('Weather Service._mcp._tcp.local.')).toBe('weather-service');
    expect(defaultMcpName('_mcp._tcp.search.example.com')).toBe('search.example.com');
    expect(defaultMcpName('plain.example.com')).toBe('plain.example.com');
  });
});

describe('entryFromInstance', () => {
  it('orders endpoints by SRV priority then weight and negates the best priority', () => {
    const result = entryFromInstance({
      fqdn: '_mcp._tcp.weather.example.com.',
      targets: [
        { priority: 20, weight: 0, port: 8080, target: 'c.example.com.' },
        { priority: 10, weight: 5, port: 8080, target: 'b.example.com.' },
        { priority: 10, weight: 60, port: 9090, target: 'a.example.com.' },
      ],
      txt: [
        'name=weather',
        'path=/v2/mcp',
        'protocol=streamable-http',
        'tools=forecast, alerts',
        'capabilities=weather',
      ],
    });
    expect(result).toEqual({
      name: 'weather',
      entry: {
        endpoints: {
          'a.example.com:9090': { protocol: 'streamable-http', url: 'http://a.example.com:9090/v2/mcp' },
          'b.example.com:8080': { protocol: 'streamable-http', url: 'http://b.example.com:8080/v2/mcp' },
          'c.example.com:8080': { protocol: 'streamable-http', url: 'http://c.example.com:8080/v2/mcp' },
        },
        priority: -10,
        tools: ['forecast', 'alerts'],
        capabilities: ['weather'],
      },
    });
    expect(Object.keys((result as { entry: { endpoints: object } }).entry.endpoints)[0]).toBe(
      'a.example.com:9090',
    );
  });

  it('uses defaults without TXT, https and an explicit priority when asked', () => {
    expect(
      entryFromInstance({
        fqdn: 'Echo._mcp._tcp.local',
        targets: [{ priority: 0, weight: 0, port: 3001, target: 'host.local' }],
        txt: [],
      }),
    ).toEqual({
      name: 'echo',
      entry: {
        endpoints: { 'host.local:3001': { protocol: 'http', url: 'http://host.local:3001/mcp' } },
        priority: 0,
      },
    });
    const secure = entryFromInstance({
      fqdn: 'x._mcp._tcp.example.com',
      targets: [{ priority: 5, weight: 0, port: 443, target: 'x.example.com' }],
      txt: ['scheme=https', 'priority=7', 'version=1.2.0'],
    });
    expect(secure).toMatchObject({
      entry: {
        endpoints: { 'x.example.com:443': { url: 'https://x.example.com:443/mcp' } },
        priority: 7,
        version: '1.2.0',
      },
    });
  });

  it('returns every problem, naming the DNS name and TXT key, instead of throwing', () => {
    expect(
      entryFromInstance({
        fqdn: 'bad._mcp._tcp.example.com.',
        targets: [{ priority: 0, weight: 0, port: 1, target: '.' }],
        txt: ['name=no spaces', 'path=mcp', 'protocol=stdio', 'scheme=ftp', 'priority=high'],
      }),
    ).toEqual({
      issues: [
        {
          path: 'bad._mcp._tcp.example.com TXT name',
          message: "'no spaces' is not a valid MCP name (letters, digits, '.', '_' and '-')",
        },
        {
          path: 'bad._mcp._tcp.example.com TXT path',
          message: "expected a path starting with '/', got 'mcp'",
        },
        {
          path: 'bad._mcp._tcp.example.com TXT protocol',
          message: "expected one of http, streamable-http, got 'stdio'",
        },
        { path: 'bad._mcp._tcp.example.com TXT scheme', message: "expected one of http, https, got 'ftp'" },
        { path: 'bad._mcp._tcp.example.com TXT priority', message: "expected an integer, got 'high'" },
        { path: 'bad._mcp._tcp.example.com SRV', message: 'has no target (no SRV records, or only ".")' },
      ],
    });
  });
});
