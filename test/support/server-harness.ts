/**
 * The real server, started in-process by `main.ts`'s `start()` on port 0,
 * with a registry and a workflows directory in a temp dir. Requests go over
 * HTTP with fetch; nothing is injected.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { type Orchestrator, start } from '../../src/main.js';
import { createLogger } from '../../src/server/logger.js';

/** A started server and helpers around it. */
export interface ServerHarness {
  orchestrator: Orchestrator;
  url: string;
  dir: string;
  workflowsDir: string;
  /** Log lines the server wrote, parsed. */
  logs: Record<string, unknown>[];
  request(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; raw?: string },
  ): Promise<Response>;
  json<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: T }>;
  close(): Promise<void>;
}

/** Starts a server on `registry` with extra environment and workflow files. */
export async function startServer(
  registry: unknown,
  options: { env?: Record<string, string>; workflows?: Record<string, string>; apiKey?: string } = {},
): Promise<ServerHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-server-'));
  const workflowsDir = join(dir, 'workflows');
  mkdirSync(workflowsDir);
  for (const [name, text] of Object.entries(options.workflows ?? {}))
    writeFileSync(join(workflowsDir, name), text);
  writeFileSync(join(dir, 'mcp-registry.json'), JSON.stringify(registry));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    REGISTRY_PATH: join(dir, 'mcp-registry.json'),
    WORKFLOWS_DIR: workflowsDir,
    DATABASE_URL: `sqlite:${join(dir, 'data', 'orchestrator.db')}`,
    INSTANCE_ID: 'test-replica',
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT: '5000',
    ...options.env,
  });
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: 'info', format: 'json', destination });
  const orchestrator = await start(config, { env: { ...options.env }, logger });
  const url = orchestrator.url;
  const auth: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
  const request: ServerHarness['request'] = (method, path, o = {}) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        ...auth,
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...o.headers,
      },
      ...(o.raw !== undefined
        ? { body: o.raw }
        : o.body !== undefined
          ? { body: JSON.stringify(o.body) }
          : {}),
    });
  return {
    orchestrator,
    url,
    dir,
    workflowsDir,
    logs,
    request,
    async json(method, path, o) {
      const response = await request(method, path, o);
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: (text ? JSON.parse(text) : undefined) as never,
      };
    },
    async close() {
      await orchestrator.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
