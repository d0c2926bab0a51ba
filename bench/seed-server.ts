/**
 * The MCP server of the benchmark and the load test, in a process of its
 * own: the seed workflow's tools (`get_contact`, `get_coach`, `send`,
 * `send_cancellation_notice`) on the official SDK over Streamable HTTP, as
 * `demo/servers/serve.mjs` builds servers, answering at once.
 *
 * Prints one JSON line `{"url": ...}` once it listens. Environment: `PORT`
 * (0), `HOST` (127.0.0.1), `FAULTS=1` to apply the fault plan of
 * `lib/fault-plan.ts` to calls that carry an idempotency key.
 *
 * Besides `/mcp`: `GET /health`; `GET /stats` (calls, injected failures,
 * calls in flight and their peak, held calls); `POST /stats/reset`;
 * `POST /control` `{ "delayMs": n }` makes every `tools/call` take n ms.
 * A `send` to a number starting with `+1555999` is held until the client
 * gives up on it (or 60 s pass): the load test cancels those executions
 * mid-call to see them compensated.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';
import { faultPlan, HOLD_PREFIX, parseKey } from './lib/fault-plan.js';
import type { SeedServerStats } from './lib/processes.js';

const HOLD_MAX_MS = 60_000;

const faults = process.env.FAULTS === '1';
let delayMs = 0;
let sent = 0;

type Stats = SeedServerStats;

let stats: Stats = freshStats();
const failedKeys = new Set<string>();

function freshStats(): Stats {
  return {
    methods: {},
    calls: {},
    failed: {},
    failedByKind: {},
    slowed: 0,
    inFlight: 0,
    maxInFlight: 0,
    held: [],
    released: 0,
  };
}

const json = (value: Record<string, unknown>) => ({
  content: [{ type: 'text' as const, text: JSON.stringify(value) }],
  structuredContent: value,
});

const phoneArgs = z.object({ phone: z.string() });
const coachArgs = z.object({ coach_id: z.string() });
const sendArgs = z.object({ to: z.string(), from: z.string().optional(), message: z.string() });
const noticeArgs = z.object({ to: z.string(), message: z.string().optional() });

function build(): McpServer {
  const server = new McpServer({ name: 'bench-seed', version: '1.0.0' });
  server.registerTool('get_contact', { inputSchema: phoneArgs }, async ({ phone }) =>
    json({ name: 'Ada Lovelace', phone, email: 'ada@example.com', opted_in: true }),
  );
  server.registerTool('get_coach', { inputSchema: coachArgs }, async ({ coach_id }) =>
    json({ id: coach_id, name: 'Coach Carter', phone: '+15550001111' }),
  );
  server.registerTool('send', { inputSchema: sendArgs }, async ({ to, from, message }) =>
    json({ id: `sms-${++sent}`, to, from: from ?? null, message, status: 'sent' }),
  );
  server.registerTool('send_cancellation_notice', { inputSchema: noticeArgs }, async ({ to, message }) =>
    json({ to, message: message ?? 'Previous message cancelled', status: 'sent' }),
  );
  return server;
}

const handler = createMcpHandler(() => build(), { legacy: 'stateless' });
const node = toNodeHandler(handler);

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when the client went away first, false after `ms`. */
function heldUntilClosed(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

interface Call {
  id?: unknown;
  method?: string;
  params?: { name?: string; arguments?: Record<string, unknown>; _meta?: { idempotencyKey?: unknown } };
}

async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = req.method === 'POST' ? ((await readBody(req)) as Call | undefined) : undefined;
  const method = body?.method ?? req.method ?? '?';
  stats.methods[method] = (stats.methods[method] ?? 0) + 1;
  if (body?.method !== 'tools/call') return node(req, res, body);
  const tool = body.params?.name ?? '?';
  stats.calls[tool] = (stats.calls[tool] ?? 0) + 1;
  stats.inFlight += 1;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  try {
    if (delayMs > 0) await sleep(delayMs);
    const key = body.params?._meta?.idempotencyKey;
    const parsed = typeof key === 'string' ? parseKey(key) : undefined;
    if (faults && parsed && !parsed.compensation) {
      const plan = faultPlan(parsed.executionId);
      if (plan.slow?.step === parsed.step) {
        stats.slowed += 1;
        await sleep(plan.slow.ms);
      }
      if (plan.fail?.step === parsed.step && !failedKeys.has(key as string)) {
        failedKeys.add(key as string);
        stats.failed[parsed.step] = (stats.failed[parsed.step] ?? 0) + 1;
        stats.failedByKind[plan.fail.kind] = (stats.failedByKind[plan.fail.kind] ?? 0) + 1;
        if (plan.fail.kind === 'http') {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('injected failure');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              jsonrpc: '2.0',
              id: body.id,
              result: { content: [{ type: 'text', text: 'injected tool failure' }], isError: true },
            }),
          );
        }
        return;
      }
    }
    const to = body.params?.arguments?.to;
    if (tool === 'send' && typeof to === 'string' && to.startsWith(HOLD_PREFIX)) {
      const heldKey = typeof key === 'string' ? key : String(body.id);
      stats.held.push(heldKey);
      const gaveUp = await heldUntilClosed(res, HOLD_MAX_MS);
      stats.held = stats.held.filter((k) => k !== heldKey);
      if (gaveUp) {
        stats.released += 1;
        return;
      }
    }
    await node(req, res, body);
  } finally {
    stats.inFlight -= 1;
  }
}

async function handleControl(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = ((await readBody(req)) ?? {}) as { delayMs?: number };
  if (typeof body.delayMs === 'number') delayMs = body.delayMs;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ delayMs }));
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const route = `${req.method} ${path}`;
  const fail = () => {
    if (!res.headersSent) res.writeHead(500).end();
  };
  switch (route) {
    case 'GET /health':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    case 'GET /stats':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    case 'POST /stats/reset':
      stats = { ...freshStats(), inFlight: stats.inFlight, held: stats.held };
      failedKeys.clear();
      res.writeHead(204).end();
      return;
    case 'POST /control':
      void handleControl(req, res).catch(fail);
      return;
  }
  if (path !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  void handleMcp(req, res).catch(fail);
});
server.keepAliveTimeout = 60_000;
server.maxRequestsPerSocket = 0;

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/mcp` })}\n`);
});
const stop = () => {
  void handler.close().finally(() => process.exit(0));
  server.closeAllConnections();
  server.close();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
