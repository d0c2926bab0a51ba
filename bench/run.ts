/**
 * `npm run bench`: the orchestrator against the raw MCP baseline (issue 8).
 *
 * 1. Builds `dist/` (tsc) when a source file is newer, starts the bench MCP server
 *    (`seed-server.ts`, own process) and the orchestrator as users run it
 *    (`node dist/main.js`, SQLite file in WAL mode, LOG_LEVEL=warn).
 * 2. At each concurrency (1, 16, 100), in interleaved rounds so that
 *    anything else running on the machine weighs on every mode alike:
 *    the seed workflow through the orchestrator (`?wait`), the same three
 *    calls with the official SDK client, and with a minimal JSON-RPC
 *    client on an undici Pool. Executions/s, p50/p99 latency, CPU per
 *    execution of each process, the orchestrator's peak RSS.
 * 3. The engine alone (`engine-alone.ts`): steps/s with a zero-cost step
 *    caller and the SQLite store.
 * 4. 1,000 executions in flight at once, each tool taking one second: the
 *    orchestrator's peak RSS.
 *
 * Writes `bench/results/latest.json` and the table in `bench/README.md`
 * (a partial run: a file in the temp directory).
 * Environment: BENCH_ROUNDS (3), BENCH_DURATION_MS (4000 per round and
 * mode), BENCH_WARMUP_MS (1500), BENCH_PREWARM_MS (8000), BENCH_CONCURRENCY (1,16,100),
 * BENCH_PHASES (throughput,engine,inflight), BENCH_PROFILE=1 to write a
 * `--cpu-prof` of the orchestrator into bench/results/profiles/,
 * BENCH_LOG_LEVEL (warn), BENCH_BEFORE_DIST (another build's dist/,
 * measured in the same rounds as a fourth mode, `before`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Pool } from 'undici';
import {
  closedLoop,
  minimalRunner,
  orchestratedRunner,
  quantile,
  type Runner,
  sdkRunner,
} from './lib/clients.js';
import {
  cpuMsOf,
  createWorkspace,
  memoryOf,
  metricSum,
  ROOT,
  resetPeakMemory,
  SEED_INPUT,
  startOrchestrator,
  startSeedServer,
} from './lib/processes.js';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(env.BENCH_DURATION_MS ?? 4000);
const WARMUP_MS = Number(env.BENCH_WARMUP_MS ?? 1500);
/** Each mode runs this long once before anything is measured, so every process is past its JIT warm-up. */
const PREWARM_MS = Number(env.BENCH_PREWARM_MS ?? 8000);
const CONCURRENCY = (env.BENCH_CONCURRENCY ?? '1,16,100').split(',').map(Number);
const PHASES = new Set((env.BENCH_PHASES ?? 'throughput,engine,inflight').split(','));
const PROFILE = env.BENCH_PROFILE === '1';
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'warn';
const RESULTS_DIR = join(ROOT, 'bench', 'results');

type Mode = 'orchestrated' | 'before' | 'sdk' | 'minimal';
/** `before`: the orchestrator built from BENCH_BEFORE_DIST, measured in the same rounds. */
const BEFORE_DIST = env.BENCH_BEFORE_DIST;
const MODES: Mode[] = BEFORE_DIST
  ? ['orchestrated', 'before', 'sdk', 'minimal']
  : ['orchestrated', 'sdk', 'minimal'];

interface ModeResult {
  executionsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  executions: number;
  errors: number;
  /** CPU per execution, ms, of each process. */
  cpuMsPerExecution: { orchestrator?: number; mcpServer: number; client: number };
  /** The orchestrator's peak RSS during its rounds, MB. */
  peakRssMb?: number;
}

interface ConcurrencyResult {
  concurrency: number;
  modes: Partial<Record<Mode, ModeResult>> & Record<'orchestrated' | 'sdk' | 'minimal', ModeResult>;
  ratioToSdk: number;
  ratioToMinimal: number;
  addedP50MsVsMinimal: number;
  addedP50MsVsSdk: number;
  /** With BENCH_BEFORE_DIST: the same ratios for the earlier build. */
  before?: { ratioToSdk: number; ratioToMinimal: number; addedP50MsVsMinimal: number };
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Builds dist/ when any source file is newer than dist/main.js. */
function ensureBuild(): void {
  const newest = (dir: string): number => {
    let latest = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) latest = Math.max(latest, newest(path));
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
        latest = Math.max(latest, statSync(path).mtimeMs);
    }
    return latest;
  };
  let built = 0;
  try {
    built = statSync(join(ROOT, 'dist', 'main.js')).mtimeMs;
  } catch {}
  if (built >= newest(join(ROOT, 'src'))) return;
  // The server only (`npm run build` would also build other things, such as the console).
  log('building dist/ (tsc -p tsconfig.build.json) ...');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('the build of dist/ failed');
}

function machine() {
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc').toString().trim());
  } catch {}
  return {
    nproc,
    cpuModel,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface Accumulated {
  completed: number;
  errors: number;
  elapsedMs: number;
  latencies: number[];
  orch: number;
  srv: number;
  client: number;
  rss: number;
}

async function throughput(): Promise<ConcurrencyResult[]> {
  const server = await startSeedServer();
  const maxC = Math.max(...CONCURRENCY);
  const profileDir = join(tmpdir(), 'orchestrator-bench-profiles');
  if (PROFILE) {
    mkdirSync(profileDir, { recursive: true });
    log(`CPU profiles of the orchestrator go to ${profileDir}`);
  }
  // Limits sized for the load, as an operator expecting it would set them.
  const start = async (dist?: string) => {
    const workspace = createWorkspace({ mcpUrl: server.url, maxConcurrency: Math.max(32, maxC + 28) });
    const orchestrator = await startOrchestrator(workspace, {
      entry: 'dist',
      ...(dist ? { dist } : {}),
      env: {
        LOG_LEVEL,
        MAX_CONCURRENT_WORKFLOWS: String(Math.max(100, maxC)),
        MAX_CONCURRENT_STEPS: String(Math.max(50, 2 * maxC + 56)),
      },
      nodeArgs: PROFILE && !dist ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
    return { workspace, orchestrator };
  };
  const current = await start();
  const before = BEFORE_DIST ? await start(BEFORE_DIST) : undefined;
  log(
    `orchestrator pid ${current.orchestrator.pid}${before ? `, before (${BEFORE_DIST}) pid ${before.orchestrator.pid}` : ''}, MCP server pid ${server.pid}`,
  );
  const orchestratorOf = (mode: Mode) =>
    mode === 'orchestrated' ? current.orchestrator : mode === 'before' ? before?.orchestrator : undefined;
  const results: ConcurrencyResult[] = [];
  try {
    // A server that has served a while, and clients that have called a while: V8 compiles the hot
    // code with its optimising tier only after thousands of calls, and measured rounds of a cold
    // process (the first at concurrency 1 ran at half speed) would say more about JIT than work.
    if (PREWARM_MS > 0) {
      const warm: Partial<Record<Mode, Runner>> = {
        orchestrated: orchestratedRunner(current.orchestrator.url, 16),
        sdk: await sdkRunner(server.url),
        minimal: minimalRunner(server.url, 36),
      };
      if (before) warm.before = orchestratedRunner(before.orchestrator.url, 16);
      for (const mode of MODES) {
        await closedLoop(warm[mode]!.run, 16, 0, PREWARM_MS);
        await closedLoop(warm[mode]!.run, 1, 0, PREWARM_MS / 4);
      }
      for (const runner of Object.values(warm)) await runner.close();
      log(`warmed up every mode (${PREWARM_MS} ms at 16, ${PREWARM_MS / 4} ms at 1)`);
    }
    for (const concurrency of CONCURRENCY) {
      const runners: Partial<Record<Mode, Runner>> = {
        orchestrated: orchestratedRunner(current.orchestrator.url, concurrency),
        sdk: await sdkRunner(server.url),
        minimal: minimalRunner(server.url, 2 * concurrency + 4),
      };
      if (before) runners.before = orchestratedRunner(before.orchestrator.url, concurrency);
      const acc = Object.fromEntries(
        MODES.map((m) => [
          m,
          { completed: 0, errors: 0, elapsedMs: 0, latencies: [], orch: 0, srv: 0, client: 0, rss: 0 },
        ]),
      ) as unknown as Record<Mode, Accumulated>;
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate the order so no mode always runs first (or right after another's GC debt).
        const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
        for (const mode of order) {
          const a = acc[mode];
          const orchestrator = orchestratorOf(mode);
          const orchCpu = () => (orchestrator ? cpuMsOf(orchestrator.pid) : 0);
          let start = { orch: 0, srv: 0, client: process.cpuUsage() };
          let peak = 0;
          const sampler = setInterval(() => {
            if (orchestrator) peak = Math.max(peak, memoryOf(orchestrator.pid).rssMb);
          }, 100);
          const result = await closedLoop(
            runners[mode]!.run,
            concurrency,
            DURATION_MS,
            round === 0 ? WARMUP_MS : Math.min(WARMUP_MS, 500),
            () => {
              start = { orch: orchCpu(), srv: cpuMsOf(server.pid), client: process.cpuUsage() };
            },
          );
          const clientCpu = process.cpuUsage(start.client);
          clearInterval(sampler);
          a.completed += result.completed;
          a.errors += result.errors;
          a.elapsedMs += result.elapsedMs;
          for (const l of result.latencies) a.latencies.push(l);
          a.orch += orchCpu() - start.orch;
          a.srv += cpuMsOf(server.pid) - start.srv;
          a.client += (clientCpu.user + clientCpu.system) / 1000;
          if (orchestrator) a.rss = Math.max(a.rss, peak, memoryOf(orchestrator.pid).rssMb);
          log(
            `  c=${String(concurrency).padStart(3)} round ${round + 1}/${ROUNDS} ${mode.padEnd(12)} ` +
              `${(result.completed / (result.elapsedMs / 1000)).toFixed(0).padStart(6)} exec/s  ` +
              `p50 ${quantile(result.latencies, 0.5).toFixed(2)} ms`,
          );
        }
      }
      for (const runner of Object.values(runners)) await runner.close();
      const modes = Object.fromEntries(
        MODES.map((m) => {
          const a = acc[m];
          const per = (ms: number) => round3(ms / Math.max(1, a.completed));
          const orchestrated = orchestratorOf(m) !== undefined;
          const r: ModeResult = {
            executionsPerSecond: round1(a.completed / (a.elapsedMs / 1000)),
            p50Ms: round2(quantile(a.latencies, 0.5)),
            p99Ms: round2(quantile(a.latencies, 0.99)),
            executions: a.completed,
            errors: a.errors,
            cpuMsPerExecution: {
              ...(orchestrated ? { orchestrator: per(a.orch) } : {}),
              mcpServer: per(a.srv),
              client: per(a.client),
            },
          };
          if (orchestrated) r.peakRssMb = round1(a.rss);
          return [m, r];
        }),
      ) as ConcurrencyResult['modes'];
      const c: ConcurrencyResult = {
        concurrency,
        modes,
        ratioToSdk: round2(modes.orchestrated.executionsPerSecond / modes.sdk.executionsPerSecond),
        ratioToMinimal: round2(modes.orchestrated.executionsPerSecond / modes.minimal.executionsPerSecond),
        addedP50MsVsMinimal: round2(modes.orchestrated.p50Ms - modes.minimal.p50Ms),
        addedP50MsVsSdk: round2(modes.orchestrated.p50Ms - modes.sdk.p50Ms),
      };
      if (modes.before)
        c.before = {
          ratioToSdk: round2(modes.before.executionsPerSecond / modes.sdk.executionsPerSecond),
          ratioToMinimal: round2(modes.before.executionsPerSecond / modes.minimal.executionsPerSecond),
          addedP50MsVsMinimal: round2(modes.before.p50Ms - modes.minimal.p50Ms),
        };
      results.push(c);
      log(
        `c=${concurrency}: orchestrated ${modes.orchestrated.executionsPerSecond}/s, sdk ${modes.sdk.executionsPerSecond}/s, ` +
          `minimal ${modes.minimal.executionsPerSecond}/s; ratios ${c.ratioToSdk}x sdk, ${c.ratioToMinimal}x minimal; ` +
          `added p50 ${c.addedP50MsVsMinimal} ms; orchestrator ${modes.orchestrated.cpuMsPerExecution.orchestrator} ms CPU/exec` +
          (modes.before
            ? `; before: ${modes.before.executionsPerSecond}/s, ${modes.before.cpuMsPerExecution.orchestrator} ms CPU/exec`
            : ''),
      );
    }
  } finally {
    for (const o of [current, before]) {
      if (!o) continue;
      await o.orchestrator.stop();
      o.workspace.remove();
    }
    await server.stop();
  }
  return results;
}

function engineAlone(): Record<string, unknown>[] {
  const runs: Record<string, unknown>[] = [];
  const builds = BEFORE_DIST ? [undefined, BEFORE_DIST, undefined, BEFORE_DIST] : [undefined];
  for (const store of ['file', 'memory']) {
    for (const dist of builds) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'bench', 'engine-alone.ts'), '--store', store],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, ...(dist ? { ENGINE_DIST: join(dist, 'index.js') } : {}) },
        },
      );
      const result = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
      if (dist) result.build = 'before';
      log(
        `engine alone (${store} store${dist ? ', before' : ''}): ${result.stepsPerSecond} steps/s, ${result.stepsPerCpuSecond} steps per CPU-second`,
      );
      runs.push(result);
    }
  }
  return runs;
}

async function inFlight(count = 1000, toolMs = 1000) {
  const server = await startSeedServer();
  const workspace = createWorkspace({ mcpUrl: server.url, maxConcurrency: 2 * count });
  const orchestrator = await startOrchestrator(workspace, {
    entry: 'dist',
    env: {
      LOG_LEVEL,
      MAX_CONCURRENT_WORKFLOWS: String(count),
      MAX_CONCURRENT_STEPS: String(2 * count),
    },
  });
  try {
    // A few executions first, so the connections and code paths are warm as in service.
    const warm = orchestratedRunner(orchestrator.url, 4);
    for (let i = 0; i < 20; i++) await warm.run();
    await warm.close();
    const idleRssMb = memoryOf(orchestrator.pid).rssMb;
    const resetWorked = resetPeakMemory(orchestrator.pid);
    await server.setDelay(toolMs);
    await server.resetStats();
    const pool = new Pool(orchestrator.url, { connections: count, pipelining: 1 });
    let peak = 0;
    let maxActive = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, memoryOf(orchestrator.pid).rssMb);
    }, 50);
    const gauge = setInterval(() => {
      void orchestrator
        .metrics()
        .then((text) => {
          maxActive = Math.max(maxActive, metricSum(text, 'orchestrator_workflows_active'));
        })
        .catch(() => undefined);
    }, 250);
    const started = performance.now();
    const body = JSON.stringify({ input: SEED_INPUT });
    const statuses = await Promise.all(
      Array.from({ length: count }, async () => {
        const response = await pool.request({
          path: '/workflows/send_coached_sms/executions?wait=120000',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const text = await response.body.text();
        return response.statusCode === 200 && text.includes('"status":"completed"');
      }),
    );
    const wallMs = performance.now() - started;
    clearInterval(sampler);
    clearInterval(gauge);
    await pool.close();
    const memory = memoryOf(orchestrator.pid);
    const stats = await server.stats();
    const result = {
      executions: count,
      toolMs,
      completed: statuses.filter(Boolean).length,
      wallMs: Math.round(wallMs),
      maxActiveExecutions: maxActive,
      maxCallsInFlightAtServer: stats.maxInFlight,
      idleRssMb: round1(idleRssMb),
      peakRssMb: round1(Math.max(peak, resetWorked ? memory.peakRssMb : 0)),
    };
    log(
      `1,000 in flight: ${result.completed}/${count} completed in ${result.wallMs} ms, ` +
        `${result.maxActiveExecutions} running at once, ${result.maxCallsInFlightAtServer} calls in flight at the server, ` +
        `peak RSS ${result.peakRssMb} MB (idle ${result.idleRssMb} MB)`,
    );
    return result;
  } finally {
    await server.setDelay(0).catch(() => undefined);
    await orchestrator.stop();
    await server.stop();
    workspace.remove();
  }
}

function targets(
  results: ConcurrencyResult[],
  engine: Record<string, unknown>[],
  memory: { peakRssMb: number } | undefined,
) {
  const at100 = results.find((r) => r.concurrency === 100);
  const at1 = results.find((r) => r.concurrency === 1);
  const fileEngine = engine.find((e) => e.store === 'file' && !e.build);
  const check = (value: number | undefined, ok: (v: number) => boolean) =>
    value === undefined ? 'not run' : ok(value) ? 'met' : 'missed';
  return {
    'c=100 orchestrated ≥ 1.5× SDK': {
      value: at100?.ratioToSdk,
      result: check(at100?.ratioToSdk, (v) => v >= 1.5),
    },
    'c=100 orchestrated ≥ 0.7× minimal': {
      value: at100?.ratioToMinimal,
      result: check(at100?.ratioToMinimal, (v) => v >= 0.7),
    },
    'c=1 added p50 ≤ 2 ms': {
      value: at1?.addedP50MsVsMinimal,
      result: check(at1?.addedP50MsVsMinimal, (v) => v <= 2),
    },
    '1,000 in flight, peak RSS ≤ 300 MB': {
      value: memory?.peakRssMb,
      result: check(memory?.peakRssMb, (v) => v <= 300),
    },
    'engine alone ≥ 20,000 steps/s per core (SQLite)': {
      value: fileEngine?.stepsPerCpuSecond as number | undefined,
      result: check(fileEngine?.stepsPerCpuSecond as number | undefined, (v) => v >= 20_000),
    },
  };
}

function markdown(report: Report): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(
    `Run of ${report.date} on ${m.nproc} × ${m.cpuModel} (${m.memoryGb} GB), Node ${m.node}, ${m.platform}; ` +
      `${report.settings.rounds} rounds × ${report.settings.durationMs / 1000} s per mode and concurrency.`,
  );
  lines.push('');
  if (report.throughput.length > 0) {
    lines.push(
      '| concurrency | mode | executions/s | p50 ms | p99 ms | orchestrator CPU ms/exec | MCP server CPU ms/exec | client CPU ms/exec | orchestrator peak RSS MB |',
    );
    lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of report.throughput) {
      for (const mode of MODES) {
        const x = r.modes[mode];
        if (!x) continue;
        lines.push(
          `| ${r.concurrency} | ${mode} | ${x.executionsPerSecond} | ${x.p50Ms} | ${x.p99Ms} | ${x.cpuMsPerExecution.orchestrator ?? ''} | ${x.cpuMsPerExecution.mcpServer} | ${x.cpuMsPerExecution.client} | ${x.peakRssMb ?? ''} |`,
        );
      }
    }
    lines.push('');
    lines.push(
      '| concurrency | orchestrated ÷ SDK | orchestrated ÷ minimal | added p50 vs minimal, ms | added p50 vs SDK, ms |',
    );
    lines.push('| ---: | ---: | ---: | ---: | ---: |');
    for (const r of report.throughput) {
      lines.push(
        `| ${r.concurrency} | ${r.ratioToSdk} | ${r.ratioToMinimal} | ${r.addedP50MsVsMinimal} | ${r.addedP50MsVsSdk} |`,
      );
      if (r.before)
        lines.push(
          `| ${r.concurrency} (before) | ${r.before.ratioToSdk} | ${r.before.ratioToMinimal} | ${r.before.addedP50MsVsMinimal} | |`,
        );
    }
    lines.push('');
  }
  for (const e of report.engine)
    lines.push(
      `Engine alone${e.build ? ` (${e.build})` : ''}, ${e.store} store: ${e.stepsPerSecond} steps/s, ${e.stepsPerCpuSecond} steps per CPU-second (${e.executions} executions, ${e.concurrency} in flight).`,
    );
  if (report.inFlight) {
    const f = report.inFlight;
    lines.push(
      `1,000 in flight (each tool call ${f.toolMs} ms): ${f.completed}/${f.executions} completed in ${f.wallMs} ms, ${f.maxActiveExecutions} running at once, peak RSS ${f.peakRssMb} MB (idle ${f.idleRssMb} MB).`,
    );
  }
  lines.push('');
  lines.push('| target | value | |');
  lines.push('| --- | ---: | --- |');
  for (const [name, t] of Object.entries(report.targets))
    lines.push(`| ${name} | ${t.value ?? ''} | ${t.result} |`);
  return lines.join('\n');
}

interface Report {
  date: string;
  machine: ReturnType<typeof machine>;
  settings: { rounds: number; durationMs: number; warmupMs: number; concurrency: number[]; logLevel: string };
  throughput: ConcurrencyResult[];
  engine: Record<string, unknown>[];
  inFlight?: Awaited<ReturnType<typeof inFlight>>;
  targets: ReturnType<typeof targets>;
}

async function main(): Promise<void> {
  ensureBuild();
  const report: Report = {
    date: new Date().toISOString(),
    machine: machine(),
    settings: {
      rounds: ROUNDS,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
      concurrency: CONCURRENCY,
      logLevel: LOG_LEVEL,
    },
    throughput: [],
    engine: [],
    targets: {} as Report['targets'],
  };
  log(`machine: ${JSON.stringify(report.machine)}`);
  if (PHASES.has('throughput')) report.throughput = await throughput();
  if (PHASES.has('engine')) report.engine = engineAlone();
  if (PHASES.has('inflight')) report.inFlight = await inFlight();
  report.targets = targets(report.throughput, report.engine, report.inFlight);
  const table = markdown(report);
  log(`\n${table}\n`);
  // A partial run (some phases, other concurrencies) is a look, not the record: it goes to a temp file.
  const complete =
    PHASES.has('throughput') &&
    PHASES.has('engine') &&
    PHASES.has('inflight') &&
    CONCURRENCY.join() === '1,16,100';
  const path = complete
    ? join(RESULTS_DIR, 'latest.json')
    : join(tmpdir(), 'orchestrator-bench-partial.json');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  if (complete) {
    const readmePath = join(ROOT, 'bench', 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const start = '<!-- results:start -->';
    const end = '<!-- results:end -->';
    const at = readme.indexOf(start);
    const until = readme.indexOf(end);
    if (at >= 0 && until > at)
      writeFileSync(readmePath, `${readme.slice(0, at + start.length)}\n${table}\n${readme.slice(until)}`);
    // In the repository's own format, so `npm run lint` stays clean after a run.
    const biome = join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
    spawnSync(process.execPath, [biome, 'format', '--write', path, readmePath], {
      cwd: ROOT,
      stdio: 'ignore',
    });
  }
  log(`results written to ${path}`);
}

await main();
