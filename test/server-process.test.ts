/**
 * The server as a process, as `npm start` runs it: the shipped demo end to
 * end, SIGTERM draining a running execution, kill -9 recovery on SQLite
 * (mid-step and mid-rollback), takeover by another replica on PostgreSQL,
 * and start-up refusing bad configuration with one line that names the
 * problem.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { SqliteExecutionStore } from '../src/store/index.js';
import { eventually } from './support/eventually.js';
import { ROOT, readToolLog, stdioEndpoint } from './support/mcp-harness.js';
import { freshDatabase } from './support/postgres-cluster.js';

interface Running {
  child: ChildProcess;
  url: Promise<string>;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Runs `node --import tsx src/main.ts` (what `npm start` runs) with an environment. */
function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  let resolveUrl: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      stdout.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === 'orchestrator ready' && entry.address) resolveUrl(entry.address);
      } catch {}
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, stdout, stderr, exited };
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe('npm start on the shipped demo', () => {
  it('runs the demo workflows: the seed, a saga that rolls back, a condition', async () => {
    const server = run({ DATABASE_URL: 'sqlite::memory:' });
    const url = await server.url;
    const seed = await post(`${url}/workflows/send_coached_sms/executions?wait=20000`, {
      input: { phone: '+15551234567', coach_id: 'coach-123', message: 'Practice moved to 6pm' },
    });
    expect(seed).toMatchObject({
      status: 'completed',
      steps: {
        send_sms: {
          status: 'completed',
          result: { to: '+15551234567', message: 'Coach Carter says: Practice moved to 6pm' },
        },
      },
    });
    const optedOut = await post(`${url}/workflows/send_coached_sms/executions?wait=20000`, {
      input: { phone: '+15559876543', coach_id: 'coach-123', message: 'hi' },
    });
    expect(optedOut).toMatchObject({ status: 'completed', steps: { send_sms: { status: 'skipped' } } });
    const saga = await post(`${url}/workflows/book_coaching_session/executions?wait=20000`, {
      input: { user_id: 'user-1', coach_id: 'coach-123', slot: '2026-12-01T18:00', phone: '+15550000000' },
    });
    expect(saga).toMatchObject({
      status: 'compensated',
      steps: { booking: { status: 'compensated' }, confirm: { status: 'failed' } },
    });
    const premium = await post(`${url}/workflows/enable_premium_feature/executions?wait=20000`, {
      input: { user_id: 'user-2', feature: 'video' },
    });
    expect(premium).toMatchObject({ status: 'completed', steps: { premium_feature: { status: 'skipped' } } });

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

describe('SIGTERM', () => {
  it('drains a running execution, then exits 0 with the execution stored as completed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-sigterm-'));
    try {
      mkdirSync(join(dir, 'workflows'));
      writeFileSync(
        join(dir, 'mcp-registry.json'),
        JSON.stringify({
          mcps: { tools: { endpoints: { primary: stdioEndpoint('v2', join(dir, 'tools.log')) } } },
        }),
      );
      writeFileSync(
        join(dir, 'workflows', 'nap.yaml'),
        'name: nap\nversion: "1"\nsteps:\n  - { name: nap, mcp: tools, action: slow, params: { ms: 1500 } }\n',
      );
      const db = join(dir, 'orchestrator.db');
      const server = run({
        REGISTRY_PATH: join(dir, 'mcp-registry.json'),
        WORKFLOWS_DIR: join(dir, 'workflows'),
        DATABASE_URL: `sqlite:${db}`,
        SHUTDOWN_TIMEOUT: '20000',
      });
      const url = await server.url;
      const response = await fetch(`${url}/workflows/nap/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'nap-once' },
        body: '{}',
      });
      const started = (await response.json()) as Record<string, unknown>;
      await eventually(async () => {
        const doc = (await (await fetch(`${url}/executions/${started.id}`)).json()) as {
          steps: { nap: { status: string } };
        };
        expect(doc.steps.nap.status).toBe('running');
      });
      server.child.kill('SIGTERM');
      await eventually(async () => expect((await fetch(`${url}/ready`)).status).toBe(503));
      expect(await server.exited).toBe(0);
      const store = new SqliteExecutionStore({ path: db });
      expect(await store.getExecution(String(started.id))).toMatchObject({
        status: 'completed',
        owner: null,
      });
      await store.close();
      expect(server.stdout.some((l) => l.includes('"drained":true'))).toBe(true);

      // Keys live in the store: after a restart the repeat still finds its execution.
      const again = run({
        REGISTRY_PATH: join(dir, 'mcp-registry.json'),
        WORKFLOWS_DIR: join(dir, 'workflows'),
        DATABASE_URL: `sqlite:${db}`,
      });
      const replay = await fetch(`${await again.url}/workflows/nap/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'nap-once' },
        body: '{}',
      });
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.json()).toMatchObject({ id: started.id, status: 'completed' });
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A temp dir holding a registry of one stdio MCP, `tools`, that logs its calls, and one workflow file. */
function crashSite(prefix: string, workflow: string, lines: string[]) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'workflows'));
  const log = join(dir, 'tools.log');
  writeFileSync(
    join(dir, 'mcp-registry.json'),
    JSON.stringify({ mcps: { tools: { endpoints: { primary: stdioEndpoint('v2', log) } } } }),
  );
  writeFileSync(join(dir, 'workflows', `${workflow}.yaml`), [...lines, ''].join('\n'));
  return {
    dir,
    log,
    env: { REGISTRY_PATH: join(dir, 'mcp-registry.json'), WORKFLOWS_DIR: join(dir, 'workflows') },
    /** Tool calls so far, from the MCP's own log. */
    calls: () => readToolLog(log).filter((e) => e.event === 'call'),
    /** Resolves once `tool` has been called. */
    called: (tool: string) =>
      eventually(() =>
        expect(readToolLog(log).some((e) => e.tool === tool && e.event === 'call')).toBe(true),
      ),
  };
}

/** Polls an execution until its document matches `expected`. */
function untilExecution(url: string, id: unknown, expected: Record<string, unknown>): Promise<void> {
  return eventually(async () => {
    const doc = (await (await fetch(`${url}/executions/${String(id)}`)).json()) as Record<string, unknown>;
    expect(doc).toMatchObject(expected);
  }, 20_000);
}

const THREE_STEPS = [
  'name: three',
  'version: "1"',
  'steps:',
  '  - { name: first, mcp: tools, action: echo, params: { text: one } }',
  '  - { name: long, mcp: tools, action: slow, params: { ms: 1500 } }',
  '  - { name: last, mcp: tools, action: plain, params: { text: $steps.first.result.text } }',
];
const THREE_DONE = { status: 'completed', output: { first: { text: 'one' }, last: 'said: one' } };

describe('kill -9', () => {
  it('resumes after a crash: done steps are not called again, the one in flight is, with its idempotency key', async () => {
    const site = crashSite('orch-kill-', 'three', THREE_STEPS);
    const env = { ...site.env, DATABASE_URL: `sqlite:${join(site.dir, 'o.db')}` };
    const first = run(env);
    const started = await post(`${await first.url}/workflows/three/executions`, {});
    await site.called('slow');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = run(env);
    await untilExecution(await second.url, started.id, THREE_DONE);
    const calls = site.calls();
    expect(calls.filter((e) => e.tool === 'echo')).toHaveLength(1);
    const slow = calls.filter((e) => e.tool === 'slow');
    expect(slow).toHaveLength(2);
    expect(slow.map((e) => e.meta?.idempotencyKey)).toEqual([`${started.id}:long`, `${started.id}:long`]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

describe('kill -9 during compensation', () => {
  it('goes on with the rollback after a restart: the undo in flight again with its key, done work not repeated', async () => {
    const site = crashSite('orch-kill-saga-', 'saga', [
      'name: saga',
      'version: "1"',
      'steps:',
      '  - { name: a, mcp: tools, action: echo, params: { text: a }, compensation: { action: plain, params: { text: undo-a } } }',
      '  - { name: b, mcp: tools, action: echo, params: { text: b }, compensation: { action: slow, params: { ms: 1500 } } }',
      '  - { name: c, mcp: tools, action: fail, retries: 0 }',
    ]);
    const env = { ...site.env, DATABASE_URL: `sqlite:${join(site.dir, 'o.db')}` };
    const first = run(env);
    const started = await post(`${await first.url}/workflows/saga/executions`, {});
    // b's undo (the slow one) is the first of the rollback, in reverse order of completion.
    await site.called('slow');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = run(env);
    await untilExecution(await second.url, started.id, {
      status: 'compensated',
      steps: { a: { status: 'compensated' }, b: { status: 'compensated' }, c: { status: 'failed' } },
    });
    const calls = site.calls();
    expect(calls.filter((e) => e.tool === 'echo')).toHaveLength(2);
    expect(calls.filter((e) => e.tool === 'fail')).toHaveLength(1);
    expect(calls.filter((e) => e.tool === 'plain').map((e) => e.meta?.idempotencyKey)).toEqual([
      `${started.id}:a:compensation`,
    ]);
    expect(calls.filter((e) => e.tool === 'slow').map((e) => e.meta?.idempotencyKey)).toEqual([
      `${started.id}:b:compensation`,
      `${started.id}:b:compensation`,
    ]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

describe('kill -9 of one replica on PostgreSQL', () => {
  it('lets another replica take its execution over once the lease runs out', async () => {
    const site = crashSite('orch-takeover-', 'three', THREE_STEPS);
    const env = {
      ...site.env,
      DATABASE_URL: await freshDatabase(inject('postgresUrl')),
      LEASE_DURATION: '1500',
    };
    const b = run({ ...env, INSTANCE_ID: 'replica-b' });
    const a = run({ ...env, INSTANCE_ID: 'replica-a' });
    const bUrl = await b.url;
    const started = await post(`${await a.url}/workflows/three/executions`, {});
    expect(started.owner).toBe('replica-a');
    await site.called('slow');
    a.child.kill('SIGKILL');
    await a.exited;

    await untilExecution(bUrl, started.id, THREE_DONE);
    const calls = site.calls();
    expect(calls.filter((e) => e.tool === 'echo')).toHaveLength(1);
    const slow = calls.filter((e) => e.tool === 'slow');
    expect(slow).toHaveLength(2);
    expect(slow.map((e) => e.meta?.idempotencyKey)).toEqual([`${started.id}:long`, `${started.id}:long`]);
    // B says in its log that it resumed A's execution.
    expect(b.stdout.some((l) => l.includes('resuming execution') && l.includes(String(started.id)))).toBe(
      true,
    );
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});

describe('LOG_FORMAT=pretty', () => {
  it('writes human-readable lines instead of JSON, serves, and exits 0 on SIGTERM', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const server = run({ LOG_FORMAT: 'pretty', PORT: String(port), DATABASE_URL: 'sqlite::memory:' });
    await eventually(
      async () => expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200),
      30_000,
    );
    await eventually(() => expect(server.stdout.some((l) => l.includes('orchestrator ready'))).toBe(true));
    const ready = server.stdout.find((l) => l.includes('orchestrator ready'))!;
    expect(() => JSON.parse(ready)).toThrow();
    // pino-pretty's shape: a bracketed time, the level in words, the message.
    expect(ready).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [^\]]*\] INFO:? .*orchestrator ready/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

describe('start-up checks', () => {
  it('refuses a bad variable with one line naming it', async () => {
    const server = run({ MAX_CONCURRENT_STEPS: 'lots' });
    expect(await server.exited).toBe(78);
    expect(server.stderr.join('').trim()).toBe(
      "orchestrator-mcp: invalid configuration: MAX_CONCURRENT_STEPS: expected a whole number from 1 to 100000, got 'lots'",
    );
  });

  it('refuses an invalid registry, naming the path of each problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-badreg-'));
    try {
      writeFileSync(
        join(dir, 'r.json'),
        JSON.stringify({
          mcps: { a: { endpoints: { primary: { protocol: 'http', url: '${MISSING_URL}' } } } },
        }),
      );
      const server = run({ REGISTRY_PATH: join(dir, 'r.json'), DATABASE_URL: 'sqlite::memory:' });
      expect(await server.exited).toBe(1);
      expect(server.stderr.join('')).toContain(
        'mcps.a.endpoints.primary.url: environment variable MISSING_URL is not set',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
