/**
 * DISCOVERY_METHODS=file,env on the real server: an MCP declared by
 * MCP_<NAME>_URL is listed with its source and runs workflow steps against a
 * real MCP server; the registry file wins over the environment for a name
 * both declare; a bad variable stops start-up naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { type ServerHarness, startServer } from './support/server-harness.js';

let mcp: TestHttpServer;
let server: ServerHarness;

beforeAll(async () => {
  mcp = await startV2HttpServer();
  const registry = {
    mcps: {
      shared: { endpoints: { primary: { protocol: 'http', url: mcp.url } }, capabilities: ['from-file'] },
      'main-platform': { endpoints: { primary: { protocol: 'http', url: 'http://127.0.0.1:9/unused' } } },
    },
  };
  server = await startServer(registry, {
    env: {
      DISCOVERY_METHODS: 'file,env',
      MCP_ENV_TOOLS_URL: mcp.url,
      MCP_ENV_TOOLS_CAPABILITIES: 'echoing',
      MCP_ENV_TOOLS_TOOLS: 'echo,slow',
      MCP_SHARED_URL: 'http://127.0.0.1:9/never-used',
      // The seed's variable: the registry's main-platform is reached here instead.
      MAIN_PLATFORM_URL: mcp.url,
    },
  });
});
afterAll(async () => {
  await server?.close();
  await mcp?.close();
});

describe('env discovery', () => {
  it('lists an MCP the environment declares, with its source, and calls it', async () => {
    expect((await server.json('GET', '/mcps/env-tools')).body).toMatchObject({
      name: 'env-tools',
      source: 'env',
      capabilities: ['echoing'],
      tools: ['echo', 'slow'],
    });
    const flow = {
      name: 'via-env',
      version: '1',
      steps: [{ name: 'say', mcp: 'env-tools', action: 'echo', params: { text: 'hello' } }],
    };
    expect((await server.json('POST', '/workflows', { body: flow })).status).toBe(201);
    const run = await server.json('POST', '/workflows/via-env/executions?wait=10000', {
      body: { input: {} },
    });
    expect(run.body).toMatchObject({ status: 'completed', output: { say: { text: 'hello' } } });
  });

  it('keeps the registry file ahead of the environment for a name both declare', async () => {
    const shared = (await server.json<{ source: string; capabilities: string[] }>('GET', '/mcps/shared'))
      .body;
    expect(shared.source).not.toBe('env');
    expect(shared.capabilities).toEqual(['from-file']);
  });

  it("lets <NAME>_URL replace the primary url of a registry MCP (the seed's MAIN_PLATFORM_URL)", async () => {
    const doc = (
      await server.json<{ source: string; endpoints: { url: string }[] }>('GET', '/mcps/main-platform')
    ).body;
    expect(doc.endpoints[0]!.url).toBe(mcp.url);
    expect(doc.source).not.toBe('env');
    const flow = {
      name: 'via-main',
      version: '1',
      steps: [{ name: 'say', mcp: 'main-platform', action: 'echo', params: { text: 'main' } }],
    };
    expect((await server.json('POST', '/workflows', { body: flow })).status).toBe(201);
    const run = await server.json('POST', '/workflows/via-main/executions?wait=10000', {
      body: { input: {} },
    });
    expect(run.body).toMatchObject({ status: 'completed', output: { say: { text: 'main' } } });
  });

  it('reads no registry file when DISCOVERY_METHODS leaves file out', async () => {
    const envOnly = await startServer(
      { mcps: { shared: { endpoints: { primary: { protocol: 'http', url: mcp.url } } } } },
      { env: { DISCOVERY_METHODS: 'env', MCP_ONLY_URL: mcp.url } },
    );
    try {
      const names = (await envOnly.json<{ items: { name: string }[] }>('GET', '/mcps')).body.items.map(
        (m) => m.name,
      );
      expect(names).toEqual(['only']);
    } finally {
      await envOnly.close();
    }
  });

  it('refuses a bad variable at start-up, naming it', () => {
    expect(() =>
      loadConfig({ DISCOVERY_METHODS: 'env', MCP_X_URL: 'http://x', MCP_X_HEADERS: '[1]' }),
    ).toThrow('MCP_X_HEADERS: expected a JSON object of header names to strings');
    // Without the env method the same variables are not read.
    expect(() => loadConfig({ MCP_X_URL: 'not a url' })).not.toThrow();
  });
});
