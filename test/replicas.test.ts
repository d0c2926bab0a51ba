/**
 * Two replicas of the real server sharing one PostgreSQL database: any
 * replica answers for (and cancels) any execution, and a workflow registered
 * or a breaker reset through one reaches the other within a second
 * (LISTEN/NOTIFY).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually } from './support/eventually.js';
import { freshDatabase } from './support/postgres-cluster.js';
import { type ServerHarness, startServer } from './support/server-harness.js';

let mcp: TestHttpServer;
let a: ServerHarness;
let b: ServerHarness;

beforeAll(async () => {
  mcp = await startV2HttpServer();
  const url = await freshDatabase(inject('postgresUrl'));
  const registry = {
    mcps: {
      tools: {
        endpoints: { primary: { protocol: 'http', url: mcp.url } },
        circuitBreaker: { failureThreshold: 1, resetTimeout: 600_000 },
      },
    },
  };
  a = await startServer(registry, { env: { DATABASE_URL: url, INSTANCE_ID: 'replica-a' } });
  b = await startServer(registry, { env: { DATABASE_URL: url, INSTANCE_ID: 'replica-b' } });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await mcp?.close();
});

const greet = {
  name: 'greet',
  version: '1',
  steps: [{ name: 's', mcp: 'tools', action: 'echo', params: { text: '$input.text' } }],
};

describe('replicas on one PostgreSQL', () => {
  it('shows a workflow registered through one replica on the other within a second, and its removal', async () => {
    expect((await a.json('POST', '/workflows', { body: greet })).status).toBe(201);
    await eventually(
      async () =>
        expect((await b.json('GET', '/workflows/greet')).body).toMatchObject({ name: 'greet', version: '1' }),
      1000,
    );
    const v2 = { ...greet, version: '2' };
    expect((await b.json('POST', '/workflows', { body: v2 })).status).toBe(201);
    await eventually(
      async () => expect((await a.json('GET', '/workflows/greet')).body).toMatchObject({ version: '2' }),
      1000,
    );
    expect((await a.json('DELETE', '/workflows/greet')).status).toBe(204);
    await eventually(async () => expect((await b.json('GET', '/workflows/greet')).status).toBe(404), 1000);
    expect((await b.json('POST', '/workflows', { body: greet })).status).toBe(201);
  });

  it('answers for an execution on either replica, naming its owner', async () => {
    await eventually(async () => expect((await a.json('GET', '/workflows/greet')).status).toBe(200), 1000);
    const run = await a.json<{ id: string }>('POST', '/workflows/greet/executions?wait=5000', {
      body: { input: { text: 'hi' } },
    });
    expect((await b.json('GET', `/executions/${run.body.id}`)).body).toMatchObject({
      status: 'completed',
      output: { s: { text: 'hi' } },
    });
    const running = await a.json<{ id: string; owner: string }>('POST', '/workflows/greet/executions', {
      body: { input: { text: 'x' } },
    });
    expect(running.body.owner).toBe('replica-a');
    expect(
      (await b.json<{ items: { id: string }[] }>('GET', '/executions?workflow=greet')).body.items.map(
        (e) => e.id,
      ),
    ).toContain(run.body.id);
  });

  it('closes a breaker on every replica when it is reset through one', async () => {
    mcp.failNext(1, 500);
    await b.json('POST', '/workflows/greet/executions?wait=5000', { body: { input: { text: 'boom' } } });
    expect((await b.json('GET', '/mcps/tools')).body).toMatchObject({ circuitBreaker: { state: 'open' } });
    expect((await a.json('POST', '/mcps/tools/circuit-breaker/reset')).status).toBe(200);
    await eventually(
      async () =>
        expect((await b.json('GET', '/mcps/tools')).body).toMatchObject({
          circuitBreaker: { state: 'closed' },
        }),
      1000,
    );
  });

  it('cancels through one replica an execution another one runs', async () => {
    const nap = {
      name: 'nap',
      version: '1',
      steps: [{ name: 'z', mcp: 'tools', action: 'slow', params: { ms: 60_000 } }],
    };
    expect((await a.json('POST', '/workflows', { body: nap })).status).toBe(201);
    const started = await a.json<{ id: string }>('POST', '/workflows/nap/executions', { body: {} });
    await eventually(async () =>
      expect((await b.json('GET', `/executions/${started.body.id}`)).body).toMatchObject({
        status: 'running',
      }),
    );
    const cancel = await b.json('POST', `/executions/${started.body.id}/cancel`, {
      body: { reason: 'enough' },
    });
    expect(cancel.status).toBe(202);
    await eventually(
      async () =>
        expect((await b.json('GET', `/executions/${started.body.id}`)).body).toMatchObject({
          status: 'cancelled',
          owner: null,
        }),
      5000,
    );
  });
});
