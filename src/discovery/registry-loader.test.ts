import { describe, expect, it } from 'vitest';
import type { OrchestratorError } from '../engine/index.js';
import { substituteEnv } from './env-substitution.js';
import { parseRegistry, registryFromObject } from './registry-loader.js';

const seed = {
  version: '1.0.0',
  mcps: {
    'main-platform': {
      name: 'Main Platform MCP',
      version: '2.0.0',
      status: 'active',
      priority: 10,
      endpoints: {
        secondary: {
          protocol: 'stdio',
          command: 'node',
          args: ['server.js'],
          env: { TOKEN: '${MCP_TOKEN:-dev-token}' },
        },
        primary: {
          protocol: 'http',
          url: 'https://api.example.com/mcp',
          headers: { 'X-API-Key': '${MCP_API_KEY}' },
        },
      },
      capabilities: ['users', 'communications'],
      tools: ['get_user', 'send_notification'],
      timeout: 20000,
      maxConcurrency: 8,
      circuitBreaker: { failureThreshold: 3, resetTimeout: 10000 },
      healthCheck: { enabled: true, endpoint: '/health', interval: 15000, timeout: 2000 },
    },
    textbee: { endpoints: { primary: { protocol: 'streamable-http', url: 'http://textbee:8080/mcp' } } },
  },
};

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    const e = error as OrchestratorError;
    expect(e.code).toBe('ORCH_REGISTRY_INVALID');
    return e.errors ?? [];
  }
  throw new Error('expected the registry to be rejected');
}

describe('registry loader', () => {
  it('normalises the seed format with defaults and the primary endpoint first', () => {
    const [main, textbee] = registryFromObject(seed, { env: { MCP_API_KEY: 'secret-key' } });
    expect(main).toMatchObject({
      name: 'main-platform',
      displayName: 'Main Platform MCP',
      version: '2.0.0',
      status: 'active',
      priority: 10,
      source: 'file',
      capabilities: ['users', 'communications'],
      tools: ['get_user', 'send_notification'],
      timeout: 20000,
      maxConcurrency: 8,
      circuitBreaker: { failureThreshold: 3, resetTimeout: 10000 },
      healthCheck: { enabled: true, endpoint: '/health', interval: 15000, timeout: 2000 },
    });
    expect(main!.endpoints).toEqual([
      {
        name: 'primary',
        protocol: 'http',
        url: 'https://api.example.com/mcp',
        headers: { 'X-API-Key': 'secret-key' },
      },
      {
        name: 'secondary',
        protocol: 'stdio',
        command: 'node',
        args: ['server.js'],
        env: { TOKEN: 'dev-token' },
      },
    ]);
    expect(textbee).toMatchObject({
      displayName: 'textbee',
      status: 'active',
      priority: 0,
      timeout: 30000,
      maxConcurrency: 32,
      circuitBreaker: { failureThreshold: 5, resetTimeout: 30000 },
      healthCheck: { enabled: true, interval: 30000, timeout: 5000 },
      endpoints: [{ name: 'primary', protocol: 'http', url: 'http://textbee:8080/mcp', headers: {} }],
    });
    expect(textbee!.tools).toBeUndefined();
    expect(textbee!.healthCheck.endpoint).toBeUndefined();
  });

  it('names a missing ${VAR} and where it is used', () => {
    expect(issuesOf(() => registryFromObject(seed, { env: {} }))).toEqual([
      {
        path: 'mcps["main-platform"].endpoints.primary.headers["X-API-Key"]',
        message: 'environment variable MCP_API_KEY is not set (use ${MCP_API_KEY:-default} for a default)',
      },
    ]);
  });

  it('reports schema and protocol problems with their JSON paths, all at once', () => {
    const bad = {
      mcps: {
        ok: { endpoints: { primary: { protocol: 'http', url: 'http://a/mcp' } } },
        'bad name': { endpoints: { primary: { protocol: 'http', url: 'http://a' } } },
        broken: {
          status: 'sleeping',
          timeout: -1,
          endpoints: { primary: { protocol: 'gopher', url: 'x' } },
          colour: 'red',
        },
      },
    };
    expect(issuesOf(() => registryFromObject(bad))).toEqual([
      {
        path: 'mcps["bad name"]',
        message: 'is not a valid name: must match the pattern ^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      },
      { path: 'mcps.broken.colour', message: 'is not an allowed property' },
      { path: 'mcps.broken.status', message: 'must be one of: active, inactive' },
      {
        path: 'mcps.broken.endpoints.primary.protocol',
        message: 'must be one of: http, streamable-http, stdio',
      },
      { path: 'mcps.broken.timeout', message: 'must be >= 1' },
    ]);
    const protocol = {
      mcps: {
        a: { endpoints: { primary: { protocol: 'http' }, backup: { protocol: 'stdio', url: 'http://x' } } },
        b: { endpoints: { primary: { protocol: 'http', url: 'ftp://files/mcp' } } },
      },
    };
    expect(issuesOf(() => registryFromObject(protocol))).toEqual([
      { path: 'mcps.a.endpoints.primary.url', message: 'is required for protocol http' },
      { path: 'mcps.a.endpoints.backup.command', message: 'is required for protocol stdio' },
      { path: 'mcps.a.endpoints.backup.url', message: 'applies to protocol http only' },
      { path: 'mcps.b.endpoints.primary.url', message: 'must be an http:// or https:// URL' },
    ]);
  });

  it('rejects text that is not JSON with the parser message', () => {
    const [issue] = issuesOf(() => parseRegistry('{ "mcps": ', { source: 'mcp-registry.json' }));
    expect(issue!.path).toBe('');
    // Only the position: V8's message would quote the file, and a registry holds secrets.
    expect(issue!.message).toBe('is not valid JSON (it ends too early)');
    const [quoted] = issuesOf(() => parseRegistry('{ "mcps": { "a": s3cr3t-token } }'));
    expect(quoted!.message).toMatch(/^is not valid JSON( at position \d+)?$/);
    expect(quoted!.message).not.toContain('s3cr3t');
  });

  it('gives equal definitions equal fingerprints, and a changed one another', () => {
    const env = { MCP_API_KEY: 'k' };
    const [a] = registryFromObject(seed, { env });
    const [b] = registryFromObject(structuredClone(seed), { env });
    const [c] = registryFromObject(seed, { env: { MCP_API_KEY: 'rotated' } });
    expect(a!.fingerprint).toBe(b!.fingerprint);
    expect(c!.fingerprint).not.toBe(a!.fingerprint);
  });
});

describe('substituteEnv', () => {
  it('replaces set variables, applies defaults like the shell, and leaves keys alone', () => {
    const result = substituteEnv(
      { '${KEY}': ['${A}', '${B:-fallback}', '${EMPTY:-used}', 'x${A}y', '${EMPTY}'] },
      { A: 'a', EMPTY: '' },
    );
    expect(result).toEqual({ value: { '${KEY}': ['a', 'fallback', 'used', 'xay', ''] }, issues: [] });
  });
});
