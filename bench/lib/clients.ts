/**
 * The three ways the benchmark runs the seed workflow's work, each a
 * function that does one "workflow" and resolves when it is done:
 *
 * - orchestrated: one `POST /workflows/send_coached_sms/executions?wait=`
 *   to the orchestrator, on a lean undici Pool (the load generator);
 * - sdk: the same three tool calls (two in parallel, then one using their
 *   results, under the workflow's condition) with the official SDK client,
 *   as a user would write them by hand;
 * - minimal: the same calls as single JSON-RPC POSTs on an undici Pool, the
 *   cost of the protocol itself.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Pool } from 'undici';
import { SEED_INPUT } from './processes.js';

/** One unit of work; rejects when it did not complete as expected. */
export type Workload = () => Promise<void>;

/** A workload and what it holds open. */
export interface Runner {
  run: Workload;
  close(): Promise<void>;
}

const MODERN = '2026-07-28';
const SEED_BODY = JSON.stringify({ input: SEED_INPUT });

/** Starts executions of the seed workflow over REST and waits for each to complete. */
export function orchestratedRunner(url: string, connections: number): Runner {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const path = '/workflows/send_coached_sms/executions?wait=60000';
  return {
    async run() {
      const response = await pool.request({
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: SEED_BODY,
      });
      const text = await response.body.text();
      if (response.statusCode !== 200 || !text.includes('"status":"completed"'))
        throw new Error(`execution did not complete: HTTP ${response.statusCode} ${text.slice(0, 300)}`);
    },
    close: () => pool.close(),
  };
}

interface ToolResult {
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** One tool call of a baseline: the tool's structured result, or a throw. */
type ToolCall = (name: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** The seed workflow made by hand: contact and coach at once, then the SMS when opted in. */
async function runSeedWorkflow(call: ToolCall): Promise<void> {
  const [contact, coach] = await Promise.all([
    call('get_contact', { phone: SEED_INPUT.phone }),
    call('get_coach', { coach_id: SEED_INPUT.coach_id }),
  ]);
  if (contact.opted_in !== true) return;
  await call('send', {
    to: contact.phone,
    from: coach.phone,
    message: `${coach.name} says: ${SEED_INPUT.message}`,
  });
}

/** The seed workflow written by hand on the official SDK client (both protocol eras, like the orchestrator). */
export async function sdkRunner(mcpUrl: string): Promise<Runner> {
  const client = new Client(
    { name: 'bench-sdk', version: '1.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as ToolResult;
    if (result.isError || !result.structuredContent) throw new Error(`${name} failed`);
    return result.structuredContent;
  };
  return {
    run: () => runSeedWorkflow(call),
    close: () => client.close(),
  };
}

/** The seed workflow as raw JSON-RPC POSTs (2026-07-28 era, as the SDK sends them) on an undici Pool. */
export function minimalRunner(mcpUrl: string, connections: number): Runner {
  const url = new URL(mcpUrl);
  const pool = new Pool(url.origin, { connections, pipelining: 1 });
  const envelope = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'bench-minimal', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  let seq = 0;
  const call = async (name: string, args: Record<string, unknown>) => {
    const id = ++seq;
    const response = await pool.request({
      path: url.pathname,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'tools/call',
        'mcp-name': name,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name, arguments: args, _meta: envelope },
      }),
    });
    const message = (await response.body.json()) as { result?: ToolResult };
    const result = message.result;
    if (response.statusCode !== 200 || !result || result.isError || !result.structuredContent)
      throw new Error(`${name} failed: HTTP ${response.statusCode}`);
    return result.structuredContent;
  };
  return {
    run: () => runSeedWorkflow(call),
    close: () => pool.close(),
  };
}

/** What a closed-loop run measured. */
export interface LoopResult {
  completed: number;
  errors: number;
  elapsedMs: number;
  /** Per-workflow latencies, ms. */
  latencies: number[];
}

/**
 * Runs `work` in `concurrency` closed loops (each starts its next workflow
 * when the last ended) for `durationMs`, after `warmupMs` whose results are
 * dropped. `onMeasureStart` runs as measuring begins.
 */
export async function closedLoop(
  work: Workload,
  concurrency: number,
  durationMs: number,
  warmupMs: number,
  onMeasureStart?: () => void,
): Promise<LoopResult> {
  const warmupEnd = performance.now() + warmupMs;
  let measuring = false;
  let measureStart = 0;
  let end = Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const worker = async () => {
    for (;;) {
      const now = performance.now();
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        measureStart = now;
        end = now + durationMs;
        onMeasureStart?.();
      }
      if (now >= end) return;
      const started = now;
      const counted = measuring;
      try {
        await work();
        const finished = performance.now();
        // Only what ended inside the window counts, so the tail of each loop does not inflate the rate.
        if (counted && finished <= end) latencies.push(finished - started);
      } catch (error) {
        if (counted) errors += 1;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = end - measureStart;
  if (errors > 0) console.error(`  ${errors} workflows failed; first: ${(firstError as Error).message}`);
  return { completed: latencies.length, errors, elapsedMs, latencies };
}

/** The q-quantile (0..1) of samples, ms. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
