/**
 * The REST API of DESIGN.md on the real server (port 0) with a real MCP
 * server behind it: every route, the error bodies, OpenAPI, metrics and
 * server-sent events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startV2HttpServer, type TestHttpServer } from './fixtures/http-servers.js';
import { eventually } from './support/eventually.js';
import { type ServerHarness, startServer } from './support/server-harness.js';

let mcp: TestHttpServer;
let h: ServerHarness;

const seed = {
  name: 'greet',
  version: '1.0.0',
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  steps: [
    { name: 'contact', mcp: 'tools', action: 'echo', params: { text: '$input.name' } },
    {
      name: 'coach',
      mcp: 'tools',
      action: 'json_text',
      params: { value: { coach: 'Carter' } },
      parallel: true,
    },
    {
      name: 'sms',
      mcp: 'tools',
      action: 'plain',
      params: { text: '$steps.contact.result.text' },
      dependsOn: ['contact', 'coach'],
    },
  ],
};

const saga = {
  name: 'saga',
  version: '1',
  steps: [
    {
      name: 'reserve',
      mcp: 'tools',
      action: 'echo',
      params: { text: 'reserved' },
      compensation: { action: 'echo', params: { text: 'released' } },
    },
    { name: 'charge', mcp: 'tools', action: 'fail', params: { message: 'card declined' } },
  ],
};

const sleepy = {
  name: 'sleepy',
  version: '1',
  steps: [{ name: 'nap', mcp: 'tools', action: 'slow', params: { ms: '$input.ms' } }],
};

beforeAll(async () => {
  mcp = await startV2HttpServer();
  h = await startServer(
    {
      mcps: {
        tools: {
          endpoints: {
            primary: { protocol: 'http', url: mcp.url, headers: { 'X-Api-Key': 'very-secret-value' } },
          },
        },
      },
    },
    { env: { BODY_LIMIT: '4096' } },
  );
  for (const definition of [seed, saga, sleepy])
    expect((await h.json('POST', '/workflows', { body: definition })).status).toBe(201);
});
afterAll(async () => {
  await h?.close();
  await mcp?.close();
});

interface StreamedEvent {
  name: string;
  data: { executionId?: string; step?: string; mcp?: string };
}

/** Opens an event stream and reads it as it comes, until what was read passes a check. */
async function openStream(path: string) {
  const controller = new AbortController();
  const response = await fetch(`${h.url}${path}`, { signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const parse = (): StreamedEvent[] =>
    [...text.matchAll(/^event: (.+)\ndata: (.+)$/gm)].map((m) => ({
      name: m[1]!,
      data: JSON.parse(m[2]!) as StreamedEvent['data'],
    }));
  return {
    async until(done: (events: StreamedEvent[]) => boolean, timeoutMs = 10_000): Promise<StreamedEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (!done(parse())) {
        if (Date.now() > deadline) throw new Error(`stream ${path} did not get there: ${text}`);
        const { value, done: over } = await reader.read();
        if (over) throw new Error(`stream ${path} ended: ${text}`);
        text += value;
      }
      return parse();
    },
    close: () => controller.abort(),
  };
}

describe('probes and docs', () => {
  it('answers /health and /ready, and documents every route in OpenAPI', async () => {
    expect(await h.json('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await h.json('GET', '/ready')).toMatchObject({ status: 200, body: { status: 'ready' } });
    const { status, body } = await h.json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>('GET', '/docs/json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const routes = Object.entries(body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /health',
        'GET /ready',
        'GET /metrics',
        'GET /workflows',
        'POST /workflows',
        'GET /workflows/{name}',
        'DELETE /workflows/{name}',
        'POST /workflows/{name}/executions',
        'GET /executions',
        'GET /executions/{id}',
        'POST /executions/{id}/cancel',
        'GET /executions/{id}/events',
        'GET /events',
        'GET /mcps',
        'GET /mcps/{name}',
        'GET /mcps/{name}/health',
        'POST /mcps/{name}/circuit-breaker/reset',
      ].sort(),
    );
    // Errors are problem documents, streams event streams, and OpenAPI says so.
    const responses = (path: string) =>
      (body.paths as Record<string, { get: { responses: Record<string, { content: object }> } }>)[path]!.get
        .responses;
    expect(Object.keys(responses('/executions/{id}')['404']!.content)).toEqual(['application/problem+json']);
    expect(Object.keys(responses('/executions/{id}')['200']!.content)).toEqual(['application/json']);
    expect(Object.keys(responses('/events')['200']!.content)).toEqual(['text/event-stream']);
    // Every error answer but the health report of an unhealthy MCP is a problem document.
    for (const [path, item] of Object.entries(
      body.paths as Record<string, Record<string, { responses: Record<string, { content?: object }> }>>,
    ))
      for (const [method, operation] of Object.entries(item))
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          const types = Object.keys(response.content ?? {});
          expect({
            at: `${method} ${path} ${status}`,
            problem: types.includes('application/problem+json'),
          }).toEqual({
            at: `${method} ${path} ${status}`,
            problem: true,
          });
        }
    const ui = await h.request('GET', '/docs/');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });
});

describe('workflows', () => {
  it('registers JSON and YAML, answers repeats with 200 and other content under a version with 409', async () => {
    const yaml =
      'name: from_yaml\nversion: "1"\nsteps:\n  - name: s\n    mcp: tools\n    action: echo\n    params: { text: hi }\n';
    const created = await h.request('POST', '/workflows', {
      raw: yaml,
      headers: { 'content-type': 'application/yaml' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/workflows/from_yaml');
    expect(await created.json()).toMatchObject({
      name: 'from_yaml',
      version: '1',
      steps: 1,
      definition: { name: 'from_yaml' },
    });
    expect(
      (await h.request('POST', '/workflows', { raw: yaml, headers: { 'content-type': 'application/yaml' } }))
        .status,
    ).toBe(200);
    const conflict = await h.json('POST', '/workflows', { body: { ...seed, description: 'changed' } });
    expect(conflict).toMatchObject({ status: 409, body: { code: 'ORCH_WORKFLOW_CONFLICT', status: 409 } });
    expect(conflict.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    expect((await h.json('GET', '/workflows')).body).toMatchObject({
      items: expect.arrayContaining([expect.objectContaining({ name: 'greet', steps: 3 })]),
    });
    expect((await h.json('GET', '/workflows/greet')).body).toMatchObject({
      name: 'greet',
      definition: { steps: expect.any(Array) },
    });
    expect((await h.request('DELETE', '/workflows/from_yaml')).status).toBe(204);
    expect((await h.json('GET', '/workflows/from_yaml')).body).toMatchObject({
      status: 404,
      code: 'ORCH_WORKFLOW_NOT_FOUND',
    });
    expect((await h.json('DELETE', '/workflows/from_yaml')).status).toBe(404);
  });

  it('answers an earlier version with ?version=, as the executions that ran on it need', async () => {
    const step = (text: string) => ({ name: 's', mcp: 'tools', action: 'echo', params: { text } });
    const v1 = { name: 'versioned', version: '1', steps: [step('one')] };
    const v2 = { name: 'versioned', version: '2', steps: [step('two'), { ...step('more'), name: 't' }] };
    expect((await h.json('POST', '/workflows', { body: v1 })).status).toBe(201);
    expect((await h.json('POST', '/workflows', { body: v2 })).status).toBe(201);
    expect((await h.json('GET', '/workflows/versioned')).body).toMatchObject({ version: '2', steps: 2 });
    expect((await h.json('GET', '/workflows/versioned?version=1')).body).toMatchObject({
      name: 'versioned',
      version: '1',
      steps: 1,
      definition: { steps: [{ params: { text: 'one' } }] },
    });
    expect((await h.json('GET', '/workflows/versioned?version=2')).body).toMatchObject({ version: '2' });
    expect((await h.json('GET', '/workflows/versioned?version=9')).body).toMatchObject({
      status: 404,
      code: 'ORCH_WORKFLOW_NOT_FOUND',
      detail: "workflow 'versioned' has no version '9'",
    });
    expect((await h.json('GET', '/workflows/nothing?version=1')).status).toBe(404);
    expect((await h.request('DELETE', '/workflows/versioned')).status).toBe(204);
    expect((await h.json('GET', '/workflows/versioned?version=1')).status).toBe(404);
  });

  it('rejects invalid definitions with errors[] naming each path, and malformed bodies', async () => {
    const invalid = await h.json('POST', '/workflows', {
      body: {
        name: 'bad',
        version: '1',
        steps: [
          { name: 'a', mcp: 'tools', action: 'echo', dependsOn: ['ghost'] },
          { name: 'b', mcp: 'nowhere', action: 'x' },
        ],
      },
    });
    expect(invalid).toMatchObject({
      status: 400,
      body: {
        type: 'urn:orchestrator-mcp:problem:ORCH_WORKFLOW_INVALID',
        title: 'Bad Request',
        code: 'ORCH_WORKFLOW_INVALID',
        errors: [{ path: 'steps[0].dependsOn[0]', message: "step 'a' depends on unknown step 'ghost'" }],
      },
    });
    const yaml = await h.json('POST', '/workflows', {
      headers: { 'content-type': 'application/yaml' },
      body: undefined,
    });
    expect(yaml.status).toBe(400);
    const brokenYaml = await h.request('POST', '/workflows', {
      raw: 'name: [unclosed\n',
      headers: { 'content-type': 'application/yaml' },
    });
    expect(brokenYaml.status).toBe(400);
    expect(((await brokenYaml.json()) as { detail: string }).detail).toMatch(
      /not valid YAML \(line \d+, column \d+\)/,
    );
    const brokenJson = await h.request('POST', '/workflows', {
      raw: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(brokenJson.status).toBe(400);
    expect(await brokenJson.json()).toMatchObject({
      code: 'ORCH_BAD_REQUEST',
      detail: expect.stringMatching(/not valid JSON/),
    });
    const tooLarge = await h.request('POST', '/workflows', {
      raw: JSON.stringify({ name: 'x'.repeat(5000) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ status: 413, code: 'ORCH_BODY_TOO_LARGE' });
    const wrongType = await h.request('POST', '/workflows', {
      raw: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(wrongType.status).toBe(415);
  });
});

describe('executions', () => {
  it('runs the seed-style workflow with ?wait, and 202 + Location without', async () => {
    const done = await h.json<Record<string, unknown>>('POST', '/workflows/greet/executions?wait=10000', {
      body: { input: { name: 'Ada' } },
    });
    expect(done.status).toBe(200);
    expect(done.headers.get('location')).toBe(`/executions/${done.body.id}`);
    expect(done.body).toMatchObject({
      status: 'completed',
      owner: null,
      workflow: { name: 'greet', version: '1.0.0' },
      output: { contact: { text: 'Ada' }, coach: { coach: 'Carter' }, sms: 'said: Ada' },
      steps: {
        contact: { status: 'completed', attempts: 1 },
        sms: { status: 'completed', result: 'said: Ada' },
      },
    });
    const accepted = await h.json<{ id: string; status: string }>('POST', '/workflows/greet/executions', {
      body: { input: { name: 'Bob' } },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`/executions/${accepted.body.id}`);
    await eventually(async () =>
      expect((await h.json('GET', `/executions/${accepted.body.id}`)).body).toMatchObject({
        status: 'completed',
      }),
    );
  });

  it('answers 202 when ?wait runs out first', async () => {
    const slow = await h.json<{ id: string; status: string }>(
      'POST',
      '/workflows/sleepy/executions?wait=50',
      { body: { input: { ms: 2000 } } },
    );
    expect(slow.status).toBe(202);
    expect(slow.body.status).toBe('running');
    expect(
      (await h.json('POST', `/executions/${slow.body.id}/cancel`, { body: { reason: 'test over' } })).status,
    ).toBe(202);
  });

  it('replays an Idempotency-Key with 200 and Idempotent-Replayed, and refuses it for another body with 422', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const first = await h.json<{ id: string }>('POST', '/workflows/greet/executions?wait=5000', {
      body: { input: { name: 'Ida' } },
      headers,
    });
    const again = await h.json<{ id: string }>('POST', '/workflows/greet/executions', {
      body: { input: { name: 'Ida' } },
      headers,
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const clash = await h.json('POST', '/workflows/greet/executions', {
      body: { input: { name: 'Other' } },
      headers,
    });
    expect(clash).toMatchObject({
      status: 422,
      body: { code: 'ORCH_IDEMPOTENCY_CONFLICT', executionId: first.body.id },
    });
  });

  it('answers 400 for bad input and bad queries, 404 for unknown workflows and executions', async () => {
    expect(
      await h.json('POST', '/workflows/greet/executions', { body: { input: { name: 7 } } }),
    ).toMatchObject({
      status: 400,
      body: { code: 'ORCH_INPUT_INVALID', errors: [{ path: 'input.name', message: 'must be string' }] },
    });
    const extra = await h.json('POST', '/workflows/greet/executions', { body: { inputs: {} } });
    expect(extra).toMatchObject({
      status: 400,
      body: {
        code: 'ORCH_BAD_REQUEST',
        errors: [{ path: 'inputs', message: 'must NOT have additional properties' }],
      },
    });
    expect((await h.json('POST', '/workflows/greet/executions?wait=-1', { body: {} })).status).toBe(400);
    expect((await h.json('GET', '/executions?status=sleeping')).body).toMatchObject({
      status: 400,
      errors: [{ path: 'status' }],
    });
    expect((await h.json('GET', '/executions?cursor=nonsense')).body).toMatchObject({
      status: 400,
      code: 'ORCH_BAD_REQUEST',
    });
    expect((await h.json('POST', '/workflows/nope/executions', { body: {} })).body).toMatchObject({
      status: 404,
      code: 'ORCH_WORKFLOW_NOT_FOUND',
    });
    expect((await h.json('GET', '/executions/nope')).body).toMatchObject({
      status: 404,
      code: 'ORCH_EXECUTION_NOT_FOUND',
    });
    expect((await h.json('GET', '/no/such/route')).body).toMatchObject({
      status: 404,
      code: 'ORCH_NOT_FOUND',
    });
  });

  it('rolls a saga back through the API', async () => {
    const { body } = await h.json<Record<string, unknown>>('POST', '/workflows/saga/executions?wait=10000', {
      body: {},
    });
    expect(body).toMatchObject({
      status: 'compensated',
      error: { code: 'ORCH_STEP_FAILED', details: { step: 'charge' } },
      steps: {
        reserve: { status: 'compensated', compensation: { status: 'completed', attempts: 1 } },
        charge: { status: 'failed', error: { code: 'ORCH_TOOL_ERROR' } },
      },
    });
  });

  it('cancels a running execution with 202, and answers 409 once it has ended', async () => {
    const { body } = await h.json<{ id: string }>('POST', '/workflows/sleepy/executions', {
      body: { input: { ms: 60_000 } },
    });
    await eventually(() => expect(mcp.log.some((e) => e.tool === 'slow' && e.event === 'call')).toBe(true));
    const cancelled = await h.json('POST', `/executions/${body.id}/cancel`, { body: { reason: 'operator' } });
    expect(cancelled.status).toBe(202);
    await eventually(async () =>
      expect((await h.json('GET', `/executions/${body.id}`)).body).toMatchObject({
        status: 'cancelled',
        error: { code: 'ORCH_CANCELLED' },
      }),
    );
    expect((await h.json('POST', `/executions/${body.id}/cancel`, { body: {} })).body).toMatchObject({
      status: 409,
      code: 'ORCH_EXECUTION_FINISHED',
    });
  });

  it('lists executions newest first, filtered and paged with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (
          await h.json<{ id: string }>('POST', '/workflows/greet/executions?wait=5000', {
            body: { input: { name: `P${i}` } },
          })
        ).body.id,
      );
    const first = await h.json<{ items: { id: string }[]; nextCursor?: string }>(
      'GET',
      '/executions?workflow=greet&status=completed&limit=2',
    );
    expect(first.body.items.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    const second = await h.json<{ items: { id: string }[] }>(
      'GET',
      `/executions?workflow=greet&status=completed&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items[0]!.id).toBe(ids[0]);
    expect((await h.json('GET', '/executions?limit=1000')).status).toBe(400);
  });

  it('streams an execution as server-sent events, in order, ending with workflow_completed', async () => {
    await h.json('POST', '/workflows', {
      body: {
        name: 'three',
        version: '1',
        steps: [
          { name: 'nap', mcp: 'tools', action: 'slow', params: { ms: 1000 } },
          { name: 'greet', mcp: 'tools', action: 'echo', params: { text: 'hi' } },
          { name: 'talk', mcp: 'tools', action: 'plain', params: { text: '$steps.greet.result.text' } },
        ],
      },
    });
    const { body } = await h.json<{ id: string }>('POST', '/workflows/three/executions', { body: {} });
    const response = await h.request('GET', `/executions/${body.id}/events`);
    // The stream opens at once: the headers are here while the first step still runs.
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect((await h.json('GET', `/executions/${body.id}`)).body).toMatchObject({
      status: 'running',
      steps: { nap: { status: 'running' } },
    });
    const text = await response.text();
    const events = [...text.matchAll(/^event: (.+)\ndata: (.+)$/gm)].map(
      (m) => [m[1], JSON.parse(m[2]!) as { executionId: string; step?: string }] as const,
    );
    expect(events.map(([name, data]) => (data.step ? `${name}:${data.step}` : name))).toEqual([
      'step_completed:nap',
      'step_started:greet',
      'step_completed:greet',
      'step_started:talk',
      'step_completed:talk',
      'workflow_completed',
    ]);
    expect(events.every(([, data]) => data.executionId === body.id)).toBe(true);
    // A finished execution: its final event at once.
    const again = await (await h.request('GET', `/executions/${body.id}/events`)).text();
    expect(again).toMatch(/^: connected\n\nevent: workflow_completed\ndata: \{.*"status":"completed"/);
    expect((await h.json('GET', '/executions/nope/events')).status).toBe(404);
  });

  it('starts and cancels without a body, and answers every error as problem+json', async () => {
    const started = await h.request('POST', '/workflows/saga/executions?wait=5000');
    expect(started.status).toBe(200);
    const cancel = await h.request(
      'POST',
      `/executions/${((await started.json()) as { id: string }).id}/cancel`,
      {
        headers: { 'content-type': 'application/json' },
      },
    );
    expect(cancel.status).toBe(409);
    const errors: [string, string, Record<string, unknown>?][] = [
      ['POST', '/workflows', { raw: '{', headers: { 'content-type': 'application/json' } }],
      ['GET', '/executions/none'],
      ['POST', '/workflows', { raw: 'x'.repeat(5000), headers: { 'content-type': 'application/json' } }],
      ['POST', '/workflows', { raw: 'x', headers: { 'content-type': 'text/plain' } }],
      ['GET', '/executions?status=bogus'],
    ];
    for (const [method, path, options] of errors) {
      const response = await h.request(method, path, options as never);
      expect(response.headers.get('content-type'), `${method} ${path}`).toMatch(
        /^application\/problem\+json/,
      );
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({
        status: response.status,
        type: expect.stringMatching(/^urn:orchestrator-mcp:problem:/),
      });
    }
    expect((await h.json('GET', '/executions?status=bogus')).body).toMatchObject({
      errors: [{ path: 'status', message: expect.stringMatching(/^must be one of: queued, running, /) }],
    });
  });
});

describe('MCPs', () => {
  it('shows MCPs without secrets, checks health now and resets breakers', async () => {
    const list = await h.json<{ items: Record<string, unknown>[] }>('GET', '/mcps');
    expect(JSON.stringify(list.body)).not.toContain('very-secret-value');
    expect(list.body.items[0]).toMatchObject({
      name: 'tools',
      source: 'file',
      endpoints: [
        {
          name: 'primary',
          protocol: 'http',
          headers: { 'X-Api-Key': '***' },
          circuitBreaker: { state: 'closed' },
        },
      ],
    });
    expect((await h.json('GET', '/mcps/tools')).body).toMatchObject({ name: 'tools' });
    expect(await h.json('GET', '/mcps/tools/health')).toMatchObject({
      status: 200,
      body: { name: 'tools', status: 'healthy' },
    });
    expect(await h.json('POST', '/mcps/tools/circuit-breaker/reset')).toMatchObject({
      status: 200,
      body: { name: 'tools', state: 'closed' },
    });
    expect((await h.json('GET', '/mcps/ghost')).body).toMatchObject({
      status: 404,
      code: 'ORCH_MCP_NOT_FOUND',
    });
    expect((await h.json('GET', '/mcps/ghost/health')).status).toBe(404);
    expect((await h.json('POST', '/mcps/ghost/circuit-breaker/reset')).status).toBe(404);
    await mcp.down();
    expect(await h.json('GET', '/mcps/tools/health')).toMatchObject({
      status: 503,
      body: { name: 'tools', status: 'unhealthy' },
    });
    await mcp.up();
  });
});

describe('metrics', () => {
  it('exports the series of DESIGN.md after runs', async () => {
    const text = await (await h.request('GET', '/metrics')).text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(
      value('orchestrator_workflow_executions_total{workflow="greet",status="completed"}'),
    ).toBeGreaterThanOrEqual(5);
    expect(value('orchestrator_workflow_executions_total{workflow="saga",status="compensated"}')).toBe(2);
    expect(value('orchestrator_compensations_total{workflow="saga",status="compensated"}')).toBe(2);
    expect(value('orchestrator_step_executions_total{workflow="saga",step="charge",status="failed"}')).toBe(
      2,
    );
    expect(value('orchestrator_mcp_requests_total{mcp="tools",tool="fail",outcome="tool_error"}')).toBe(2);
    expect(value('orchestrator_circuit_breaker_state{mcp="tools"}')).toBe(0);
    expect(value('orchestrator_workflows_active')).toBe(0);
    expect(value('orchestrator_workflows_queued')).toBe(0);
    expect(value('orchestrator_registry_reloads_total{result="success"}')).toBe(1);
    expect(value('orchestrator_registry_reloads_total{result="error"}')).toBe(0);
    const mcps = (await h.json<{ items: unknown[] }>('GET', '/mcps')).body.items.length;
    expect(mcps).toBeGreaterThan(0);
    expect(value('orchestrator_discovered_mcps{source="file"}')).toBe(mcps);
    expect(value('orchestrator_discovery_changes_total{source="file",change="discovered"}')).toBe(mcps);
    for (const name of [
      'orchestrator_workflow_duration_seconds_bucket',
      'orchestrator_step_duration_seconds_bucket',
      'orchestrator_mcp_request_duration_seconds_bucket',
      'orchestrator_workflows_queued',
      'orchestrator_mcp_up',
      'http_request_duration_seconds_bucket{le="0.001",method="POST",route="/workflows/:name/executions"',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(name);
    }
  });
});

// Last: it starts executions the metrics test above does not count.
describe('server-wide events', () => {
  it('streams every execution of this replica on /events, by workflow when asked, with MCP health changes', async () => {
    // Healthy to begin with, so that taking the MCP down is a change the stream reports.
    expect((await h.json('GET', '/mcps/tools/health')).status).toBe(200);
    const all = await openStream('/events');
    const greetOnly = await openStream('/events?workflow=greet');
    const mcpsOnly = await openStream('/events?topics=mcps');
    const greet = await h.json<{ id: string }>('POST', '/workflows/greet/executions?wait=10000', {
      body: { input: { name: 'Ada' } },
    });
    const saga = await h.json<{ id: string }>('POST', '/workflows/saga/executions?wait=10000', { body: {} });
    expect([greet.body, saga.body]).toMatchObject([{ status: 'completed' }, { status: 'compensated' }]);
    await mcp.down();
    expect((await h.json('GET', '/mcps/tools/health')).status).toBe(503);
    await mcp.up();
    expect((await h.json('GET', '/mcps/tools/health')).status).toBe(200);

    const allEvents = await all.until((events) => events.filter((e) => e.name === 'mcp_healthy').length > 0);
    const ofExecution = (id: string) =>
      allEvents
        .filter((e) => e.data.executionId === id)
        .map((e) => (e.data.step ? `${e.name}:${e.data.step}` : e.name));
    expect(ofExecution(greet.body.id)).toEqual([
      'workflow_started',
      expect.stringMatching(/^step_started:(contact|coach)$/),
      expect.stringMatching(/^step_started:(contact|coach)$/),
      expect.stringMatching(/^step_completed:(contact|coach)$/),
      expect.stringMatching(/^step_completed:(contact|coach)$/),
      'step_started:sms',
      'step_completed:sms',
      'workflow_completed',
    ]);
    expect(ofExecution(saga.body.id)).toContain('step_compensated:reserve');
    expect(allEvents.filter((e) => e.name.startsWith('mcp_')).map((e) => [e.name, e.data.mcp])).toEqual([
      ['mcp_unhealthy', 'tools'],
      ['mcp_healthy', 'tools'],
    ]);
    // The stream kept going after the executions ended; the filtered one carries only greet's.
    const greetEvents = await greetOnly.until((events) =>
      events.some((e) => e.name === 'workflow_completed'),
    );
    expect(greetEvents.length).toBe(8);
    expect(new Set(greetEvents.map((e) => e.data.executionId))).toEqual(new Set([greet.body.id]));
    const mcpEvents = await mcpsOnly.until((events) => events.some((e) => e.name === 'mcp_healthy'));
    expect(mcpEvents.map((e) => e.name)).toEqual(['mcp_unhealthy', 'mcp_healthy']);
    for (const stream of [all, greetOnly, mcpsOnly]) stream.close();
    expect((await h.json('GET', '/events?topics=steps')).body).toMatchObject({
      status: 400,
      code: 'ORCH_BAD_REQUEST',
    });
  });
});
