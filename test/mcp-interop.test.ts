/**
 * Workflows against real MCP servers of both SDK generations and both
 * protocol eras, over Streamable HTTP and stdio: result mapping, `_meta`,
 * registration checks from `tools/list`, tool errors, cancel reaching the
 * server, health.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolLogEntry } from './fixtures/fixture-tools.js';
import { startV1HttpServer, startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually } from './support/eventually.js';
import { createMcpHarness, type McpHarness, readToolLog, stdioEndpoint } from './support/mcp-harness.js';

interface Kind {
  name: string;
  era: string;
  start(
    dir: string,
  ): Promise<{ endpoint: Record<string, unknown>; log: () => ToolLogEntry[]; close(): Promise<void> }>;
}

const http = (start: () => Promise<TestHttpServer>) => async () => {
  const server = await start();
  return {
    endpoint: { protocol: 'http', url: server.url },
    log: () => server.log,
    close: () => server.close(),
  };
};
const stdio = (version: 'v1' | 'v2') => async (dir: string) => {
  const file = join(dir, `tools-${version}.log`);
  return {
    endpoint: stdioEndpoint(version, file),
    log: () => readToolLog(file),
    close: async () => undefined,
  };
};

const kinds: Kind[] = [
  { name: 'SDK v2 over HTTP', era: '2026-07-28', start: http(startV2HttpServer) },
  { name: 'SDK v1 over HTTP (sessions)', era: '2025-11-25', start: http(startV1HttpServer) },
  { name: 'SDK v2 over stdio', era: '2026-07-28', start: stdio('v2') },
  { name: 'SDK v1 over stdio', era: '2025-11-25', start: stdio('v1') },
];

const pipeline = {
  name: 'pipeline',
  version: '1',
  steps: [
    { name: 'greet', mcp: 'tools', action: 'echo', params: { text: '$input.name' } },
    {
      name: 'wrap',
      mcp: 'tools',
      action: 'json_text',
      params: { value: { said: '$steps.greet.result.text', n: 3 } },
    },
    { name: 'talk', mcp: 'tools', action: 'plain', params: { text: '$steps.wrap.result.said' } },
  ],
};

describe.each(kinds)('$name', (kind) => {
  let harness: McpHarness;
  let server: Awaited<ReturnType<Kind['start']>>;

  beforeAll(async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    server = await kind.start(mkdtempSync(join(tmpdir(), 'orch-tools-')));
    harness = await createMcpHarness({ mcps: { tools: { endpoints: { primary: server.endpoint } } } });
  });
  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it('runs a workflow end to end, mapping structuredContent, JSON text and plain text', async () => {
    await harness.engine.registerWorkflow(pipeline);
    const doc = await harness.engine.executeWorkflow('pipeline', { name: 'Ada' });
    expect(doc.status).toBe('completed');
    expect(doc.output).toMatchObject({
      greet: { text: 'Ada', idempotencyKey: `${doc.id}:greet` },
      wrap: { said: 'Ada', n: 3 },
      talk: 'said: Ada',
    });
    // W3C trace context in _meta: one trace per execution.
    const traceparent = (doc.output as { greet: { traceparent: string } }).greet.traceparent;
    expect(traceparent).toMatch(new RegExp(`^00-${doc.id.replace(/-/g, '')}-[0-9a-f]{16}-01$`));
    expect(harness.discovery.getMcp('tools')?.protocolVersion).toBe(kind.era);
  });

  it('rejects at registration a tool the server does not list, and literal params its inputSchema refuses', async () => {
    const wrongTool = {
      name: 'wrong',
      version: '1',
      steps: [{ name: 's', mcp: 'tools', action: 'no_such_tool' }],
    };
    await expect(harness.engine.registerWorkflow(wrongTool)).rejects.toMatchObject({
      code: 'ORCH_WORKFLOW_INVALID',
      errors: [{ path: 'steps[0].action', message: "step 's': MCP 'tools' has no tool 'no_such_tool'" }],
    });
    const wrongParams = {
      name: 'wrong',
      version: '1',
      steps: [{ name: 's', mcp: 'tools', action: 'lookup', params: { verbose: 'yes' } }],
    };
    await expect(harness.engine.registerWorkflow(wrongParams)).rejects.toMatchObject({
      errors: [
        { path: 'steps[0].params.id', message: "step 's': is required by the tool (tool 'lookup')" },
        { path: 'steps[0].params.verbose', message: "step 's': must be boolean (tool 'lookup')" },
      ],
    });
    // An expression may supply a required param.
    await harness.engine.registerWorkflow({
      ...wrongParams,
      steps: [{ name: 's', mcp: 'tools', action: 'lookup', params: { id: '$input.id' } }],
    });
  });

  it('fails a step on isError after its retries, and does not retry arguments the tool refuses', async () => {
    await harness.engine.registerWorkflow({
      name: 'failing',
      version: '1',
      steps: [
        {
          name: 'f',
          mcp: 'tools',
          action: 'fail',
          params: { message: 'contact not found' },
          retries: 1,
          backoff: { initialDelay: 1, maxDelay: 5 },
        },
      ],
    });
    const failed = await harness.engine.executeWorkflow('failing', {});
    expect(failed.steps.f).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'ORCH_TOOL_ERROR' },
    });
    expect(failed.steps.f!.error!.message).toContain('contact not found');

    await harness.engine.registerWorkflow({
      name: 'bad_args',
      version: '1',
      steps: [{ name: 'l', mcp: 'tools', action: 'lookup', params: { id: '$input.id' }, retries: 3 }],
    });
    const calls = server.log().filter((e) => e.tool === 'lookup').length;
    const refused = await harness.engine.executeWorkflow('bad_args', { id: 42 });
    expect(refused.steps.l).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'ORCH_INVALID_PARAMS' },
    });
    expect(server.log().filter((e) => e.tool === 'lookup').length).toBe(calls);
  });

  it('aborts the call on the server when the execution is cancelled', async () => {
    await harness.engine.registerWorkflow({
      name: 'sleepy',
      version: '1',
      steps: [{ name: 'nap', mcp: 'tools', action: 'slow', params: { ms: 60_000 } }],
    });
    const { execution } = await harness.engine.startWorkflow('sleepy', {});
    await eventually(() =>
      expect(server.log().some((e) => e.tool === 'slow' && e.event === 'call')).toBe(true),
    );
    await harness.engine.cancelWorkflow(execution.id, 'test');
    const doc = await harness.engine.waitForExecution(execution.id, 10_000);
    expect(doc?.status).toBe('cancelled');
    // The tool handler itself saw its signal abort.
    await eventually(() =>
      expect(server.log().some((e) => e.tool === 'slow' && e.event === 'abort')).toBe(true),
    );
  });

  it('reports health from the protocol probe', async () => {
    expect(await harness.discovery.checkHealth('tools')).toMatchObject({
      status: 'healthy',
      latencyMs: expect.any(Number),
    });
  });
});
