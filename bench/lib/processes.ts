/**
 * The processes of the benchmark and the load test, each on its own event
 * loop: the seed MCP server (`bench/seed-server.ts`) and the orchestrator,
 * started as users start it (`node dist/main.js`, or `src/main.ts` through
 * tsx) and configured by environment. Also what Linux says about a process:
 * CPU time and resident memory from `/proc`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..', '..');

/** The seed workflow's input, which the bench MCP server answers for any phone. */
export const SEED_INPUT = { phone: '+15551234567', coach_id: 'coach-123', message: 'Practice moved to 6pm' };

/** Counters of the bench MCP server (`GET /stats`). */
export interface SeedServerStats {
  /** Requests to /mcp by JSON-RPC method (or HTTP method when there is no body). */
  methods: Record<string, number>;
  /** tools/call requests by tool. */
  calls: Record<string, number>;
  /** Injected failures by step name. */
  failed: Record<string, number>;
  /** Injected failures by kind: `http` (HTTP 500) and `tool` (`isError`). */
  failedByKind: Record<string, number>;
  slowed: number;
  inFlight: number;
  maxInFlight: number;
  /** Idempotency keys of `send` calls held right now. */
  held: string[];
  /** Held calls the client gave up on. */
  released: number;
}

/** A running bench MCP server. */
export interface SeedServer {
  /** The MCP endpoint, `http://127.0.0.1:PORT/mcp`. */
  url: string;
  pid: number;
  stats(): Promise<SeedServerStats>;
  resetStats(): Promise<void>;
  /** Every tools/call takes `delayMs` first. */
  setDelay(delayMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** A running orchestrator process. */
export interface OrchestratorProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** What it wrote on stderr (start-up errors). */
  stderr: string[];
  /** The Prometheus text of `/metrics`. */
  metrics(): Promise<string>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

const tracked = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of tracked) if (child.exitCode === null) child.kill('SIGKILL');
});

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<number | null> {
  const exited = exitOf(child);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
    tracked.delete(child);
  }
}

/** Starts the bench MCP server in its own process. */
export async function startSeedServer(options: { faults?: boolean } = {}): Promise<SeedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'seed-server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FAULTS: options.faults ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  tracked.add(child);
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the bench MCP server exited (${code})`)));
  });
  const base = url.replace(/\/mcp$/, '');
  const post = async (path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    await response.arrayBuffer();
  };
  return {
    url,
    pid: child.pid!,
    async stats() {
      return (await (await fetch(`${base}/stats`)).json()) as SeedServerStats;
    },
    resetStats: () => post('/stats/reset'),
    setDelay: (delayMs) => post('/control', { delayMs }),
    async stop() {
      await stopChild(child, 5000);
    },
  };
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Settings of the registry the orchestrator gets. */
export interface WorkspaceOptions {
  /** Where the three MCPs of the seed workflow point. */
  mcpUrl: string;
  /** Each MCP's `maxConcurrency` (32 by default). */
  maxConcurrency?: number;
  /** Consecutive failures that open a breaker (5 by default). */
  failureThreshold?: number;
}

/** A temp directory with a registry, the seed workflow and room for the SQLite file. */
export interface Workspace {
  dir: string;
  registryPath: string;
  workflowsDir: string;
  databasePath: string;
  remove(): void;
}

/**
 * The seed workflow as shipped (`workflows/send_coached_sms.yaml`) and a
 * registry whose three MCPs (google-workspace, main-platform, textbee) are
 * the bench MCP server.
 */
export function createWorkspace(options: WorkspaceOptions): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-'));
  const workflowsDir = join(dir, 'workflows');
  mkdirSync(workflowsDir);
  copyFileSync(join(ROOT, 'workflows', 'send_coached_sms.yaml'), join(workflowsDir, 'send_coached_sms.yaml'));
  const mcp = (tools: string[]) => ({
    endpoints: { primary: { protocol: 'http', url: options.mcpUrl } },
    tools,
    ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
    ...(options.failureThreshold
      ? { circuitBreaker: { failureThreshold: options.failureThreshold, resetTimeout: 30_000 } }
      : {}),
  });
  const registry = {
    version: '1.0.0',
    mcps: {
      'google-workspace': mcp(['get_contact']),
      'main-platform': mcp(['get_coach']),
      textbee: mcp(['send', 'send_cancellation_notice']),
    },
  };
  const registryPath = join(dir, 'mcp-registry.json');
  writeFileSync(registryPath, JSON.stringify(registry, null, 2));
  return {
    dir,
    registryPath,
    workflowsDir,
    databasePath: join(dir, 'data', 'orchestrator.db'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Starts the orchestrator on `workspace` and waits until `/ready` answers
 * 200. `entry: 'dist'` runs the compiled server (`node dist/main.js`, or
 * the `main.js` of `dist`, another build to compare with), `'src'` the
 * sources through tsx (`npm start`).
 */
export async function startOrchestrator(
  workspace: Workspace,
  options: { entry: 'dist' | 'src'; dist?: string; env?: Record<string, string>; nodeArgs?: string[] },
): Promise<OrchestratorProcess> {
  const port = await freePort();
  const args =
    options.entry === 'dist'
      ? [...(options.nodeArgs ?? []), join(options.dist ?? join(ROOT, 'dist'), 'main.js')]
      : [...(options.nodeArgs ?? []), '--import', 'tsx', join(ROOT, 'src', 'main.ts')];
  const child = spawn(process.execPath, args, {
    // The repository, where `--import tsx` resolves; every path the server uses is absolute.
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      REGISTRY_PATH: workspace.registryPath,
      WORKFLOWS_DIR: workspace.workflowsDir,
      DATABASE_URL: `sqlite:${workspace.databasePath}`,
      INSTANCE_ID: 'bench',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', process.env.BENCH_ORCH_STDERR ? 'inherit' : 'pipe'],
  });
  tracked.add(child);
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the orchestrator exited (${child.exitCode}): ${stderr.join('')}`);
    const ready = await fetch(`${url}/ready`)
      .then(async (r) => {
        await r.arrayBuffer();
        return r.status === 200;
      })
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stopChild(child, 1000);
      throw new Error(`the orchestrator was not ready within 60 s: ${stderr.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    child,
    stderr,
    async metrics() {
      return (await fetch(`${url}/metrics`)).text();
    },
    stop: (graceMs = 30_000) => stopChild(child, graceMs),
  };
}

let clockTicks: number | undefined;

/** CPU time (user + system) a process has used, ms. */
export function cpuMsOf(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces, start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicks;
}

/** Resident memory now and its peak since the process started, MB. */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** Resets a process's peak resident memory (VmHWM) to its current size, where Linux allows it. */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Sums the samples of a Prometheus metric whose labels match `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const labelText = open >= 0 && open < line.indexOf(' ') ? line.slice(open + 1, line.indexOf('}')) : '';
    const have = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
