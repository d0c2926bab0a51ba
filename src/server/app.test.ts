import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { MCPDiscoveryService } from '../discovery/index.js';
import { OrchestrationEngine } from '../orchestration-engine.js';
import { app } from './app.js';
import { createLogger } from './logger.js';
import { Readiness } from './readiness.js';
import { createTelemetry } from './telemetry.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function build() {
  const discovery = new MCPDiscoveryService({ registryPath: null });
  const engine = new OrchestrationEngine({ stepCaller: { call: async () => 'ok' } });
  const readiness = new Readiness();
  const logger = createLogger({ level: 'silent', format: 'json' });
  const fastify = Fastify();
  await fastify.register(app, {
    engine,
    discovery,
    readiness,
    telemetry: createTelemetry({ engine, discovery, logger }),
    apiKeys: [],
    maxWorkflowSteps: 500,
  });
  closers.push(
    () => fastify.close(),
    () => discovery.close(),
  );
  return { fastify, readiness };
}

describe('readiness states', () => {
  it('answers only the probes while starting, then everything', async () => {
    const { fastify, readiness } = await build();
    expect((await fastify.inject({ url: '/health' })).statusCode).toBe(200);
    const ready = await fastify.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ code: 'ORCH_NOT_READY', state: 'starting' });
    const early = await fastify.inject({ url: '/workflows' });
    expect(early.statusCode).toBe(503);
    expect(early.headers['retry-after']).toBe('1');
    expect((await fastify.inject({ url: '/metrics' })).statusCode).toBe(200);

    readiness.markReady();
    expect((await fastify.inject({ url: '/ready' })).statusCode).toBe(200);
    expect((await fastify.inject({ url: '/workflows' })).statusCode).toBe(200);

    readiness.markDraining();
    expect((await fastify.inject({ url: '/ready' })).json()).toMatchObject({ state: 'draining' });
    const refused = await fastify.inject({ method: 'POST', url: '/workflows/x/executions', payload: {} });
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'ORCH_SHUTTING_DOWN' });
    // Reads and cancels still work while draining.
    expect((await fastify.inject({ url: '/workflows' })).statusCode).toBe(200);
    expect(
      (await fastify.inject({ method: 'POST', url: '/executions/nope/cancel', payload: {} })).statusCode,
    ).toBe(404);
  });
});
