/**
 * Prometheus metrics (DESIGN.md, Metrics) and event logs. Both subscribe to
 * the engine's and the discovery service's typed events; neither the engine
 * nor the MCP layer knows prom-client or pino. One registry per server,
 * never prom-client's global one.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MCPDiscoveryService } from '../discovery/index.js';
import type { WorkflowEngine } from '../engine/index.js';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  engine: WorkflowEngine;
  discovery: MCPDiscoveryService;
  logger: Logger;
  /** A registry to fill (a new one by default). */
  registry?: Registry;
}

/** The metrics registry and a hook for HTTP request durations. */
export interface Telemetry {
  registry: Registry;
  /** Records HTTP request durations by route template on a Fastify instance. */
  instrument(app: FastifyInstance): void;
}

/** Creates the metrics and subscribes metrics and logs to events. */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const { engine, discovery, logger } = options;
  const registry = options.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  const m = {
    executions: new Counter({
      name: 'orchestrator_workflow_executions_total',
      help: 'Executions that ended, by workflow and final status.',
      labelNames: ['workflow', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'orchestrator_workflow_duration_seconds',
      help: 'Execution durations, by workflow and final status.',
      labelNames: ['workflow', 'status'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    steps: new Counter({
      name: 'orchestrator_step_executions_total',
      help: 'Steps that ended, by workflow, step and status.',
      labelNames: ['workflow', 'step', 'status'],
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'orchestrator_step_duration_seconds',
      help: 'Step durations (all attempts), by workflow and step.',
      labelNames: ['workflow', 'step'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'orchestrator_step_retries_total',
      help: 'Step attempts that failed and were retried.',
      labelNames: ['workflow', 'step'],
      registers: [registry],
    }),
    compensations: new Counter({
      name: 'orchestrator_compensations_total',
      help: 'Compensations that ended, by workflow and outcome (compensated, compensation_failed).',
      labelNames: ['workflow', 'status'],
      registers: [registry],
    }),
    mcpRequests: new Counter({
      name: 'orchestrator_mcp_requests_total',
      help: 'tools/call requests, by MCP, tool and outcome.',
      labelNames: ['mcp', 'tool', 'outcome'],
      registers: [registry],
    }),
    mcpDuration: new Histogram({
      name: 'orchestrator_mcp_request_duration_seconds',
      help: 'tools/call durations, by MCP and tool.',
      labelNames: ['mcp', 'tool'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'orchestrator_registry_reloads_total',
      help: 'Registry file reads, by result (success, error).',
      labelNames: ['result'],
      registers: [registry],
    }),
    discoveryErrors: new Counter({
      name: 'orchestrator_discovery_errors_total',
      help: 'Discovery sources that failed to read, by source.',
      labelNames: ['source'],
      registers: [registry],
    }),
    discoveryChanges: new Counter({
      name: 'orchestrator_discovery_changes_total',
      help: 'MCPs discovered, updated and removed, by the source that declared them.',
      labelNames: ['source', 'change'],
      registers: [registry],
    }),
    http: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request durations, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
  // Both results exist from the start, so rate() and alerts work before the first failure.
  m.reloads.inc({ result: 'success' }, 0);
  m.reloads.inc({ result: 'error' }, 0);
  new Gauge({
    name: 'orchestrator_workflows_active',
    help: 'Executions running on this replica.',
    registers: [registry],
    collect() {
      this.set(engine.getMetrics().activeWorkflows);
    },
  });
  new Gauge({
    name: 'orchestrator_workflows_queued',
    help: 'Executions waiting for a slot on this replica.',
    registers: [registry],
    collect() {
      this.set(engine.getMetrics().queuedWorkflows);
    },
  });
  new Gauge({
    name: 'orchestrator_circuit_breaker_state',
    help: "State of each MCP's primary breaker: 0 closed, 1 half-open, 2 open.",
    labelNames: ['mcp'],
    registers: [registry],
    collect() {
      this.reset();
      for (const mcp of discovery.getMcps())
        this.set({ mcp: mcp.name }, BREAKER_VALUE[mcp.circuitBreaker.state]);
    },
  });
  new Gauge({
    name: 'orchestrator_discovered_mcps',
    help: 'MCPs in the merged view, by the source that won each name.',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [source, count] of Object.entries(discovery.getMetrics().bySource))
        this.set({ source }, count);
    },
  });
  new Gauge({
    name: 'orchestrator_mcp_up',
    help: 'Whether the last health check of each MCP passed (1) or not (0).',
    labelNames: ['mcp'],
    registers: [registry],
    collect() {
      this.reset();
      // An MCP never checked (health checks off, inactive, not yet run) has no series: 0 would page someone.
      for (const mcp of discovery.getMcps()) {
        if (mcp.health.status !== 'unknown')
          this.set({ mcp: mcp.name }, mcp.health.status === 'healthy' ? 1 : 0);
      }
    },
  });

  engine.on('workflow_started', (e) =>
    logger.info({ executionId: e.executionId, workflow: e.workflow }, 'execution started'),
  );
  engine.on('workflow_completed', (e) => {
    m.executions.inc({ workflow: e.workflow.name, status: e.status });
    if (e.durationMs !== null)
      m.duration.observe({ workflow: e.workflow.name, status: e.status }, e.durationMs / 1000);
    const level = e.status === 'completed' || e.status === 'cancelled' ? 'info' : 'warn';
    logger[level](
      {
        executionId: e.executionId,
        workflow: e.workflow,
        status: e.status,
        durationMs: e.durationMs,
        error: e.error,
      },
      'execution ended',
    );
  });
  engine.on('step_completed', (e) => {
    m.steps.inc({ workflow: e.workflow.name, step: e.step, status: 'completed' });
    m.stepDuration.observe({ workflow: e.workflow.name, step: e.step }, e.durationMs / 1000);
    logger.debug(
      { executionId: e.executionId, step: e.step, attempts: e.attempts, durationMs: e.durationMs },
      'step completed',
    );
  });
  engine.on('step_failed', (e) => {
    m.steps.inc({ workflow: e.workflow.name, step: e.step, status: e.status });
    logger.info(
      { executionId: e.executionId, step: e.step, attempts: e.attempts, status: e.status, error: e.error },
      'step failed',
    );
  });
  engine.on('step_skipped', (e) => {
    m.steps.inc({ workflow: e.workflow.name, step: e.step, status: 'skipped' });
  });
  engine.on('step_retrying', (e) => {
    m.retries.inc({ workflow: e.workflow.name, step: e.step });
    logger.debug(
      { executionId: e.executionId, step: e.step, attempt: e.attempt, delayMs: e.delayMs, error: e.error },
      'step retrying',
    );
  });
  engine.on('execution_resumed', (e) =>
    logger.info({ executionId: e.executionId, leftAs: e.status }, 'resuming execution'),
  );
  engine.on('execution_abandoned', (e) =>
    logger.warn({ executionId: e.executionId }, 'lease lost: another replica took this execution over'),
  );
  engine.on('workflow_compensation_started', (e) =>
    logger.warn({ executionId: e.executionId, reason: e.reason, steps: e.steps }, 'compensation started'),
  );
  engine.on('step_compensated', (e) => {
    m.compensations.inc({ workflow: e.workflow.name, status: e.status });
    const level = e.status === 'compensated' ? 'info' : 'error';
    logger[level](
      { executionId: e.executionId, step: e.step, status: e.status, error: e.error },
      'step compensation ended',
    );
  });

  discovery.on('mcp_request', (r) => {
    m.mcpRequests.inc({ mcp: r.mcp, tool: r.tool, outcome: r.outcome });
    m.mcpDuration.observe({ mcp: r.mcp, tool: r.tool }, r.durationMs / 1000);
  });
  discovery.on('registry_loaded', (e) => {
    if (e.source === 'file') m.reloads.inc({ result: 'success' });
    logger.info(
      { source: e.source, mcps: e.mcps, added: e.added, removed: e.removed, updated: e.updated },
      e.source === 'file' ? 'MCP registry loaded' : 'discovery method read',
    );
  });
  discovery.on('registry_error', (e) => {
    if (e.source === 'file') m.reloads.inc({ result: 'error' });
    m.discoveryErrors.inc({ source: e.source });
    logger.error(
      { source: e.source, error: e.error.message, ...(e.errors.length > 0 ? { errors: e.errors } : {}) },
      e.source === 'file'
        ? 'MCP registry rejected; the last good one stays in force'
        : 'discovery method failed; its last good MCPs stay and it is retried',
    );
  });
  for (const [event, change] of [
    ['mcp_discovered', 'discovered'],
    ['mcp_updated', 'updated'],
    ['mcp_removed', 'removed'],
  ] as const) {
    discovery.on(event, (e) => {
      m.discoveryChanges.inc({ source: e.source, change });
      logger.info({ mcp: e.mcp, source: e.source }, `MCP ${change}`);
    });
  }
  discovery.on('circuit_breaker_state_change', (e) =>
    logger.warn(
      { mcp: e.mcp, endpoint: e.endpoint, from: e.previous, to: e.state },
      'circuit breaker changed state',
    ),
  );
  discovery.on('mcp_unhealthy', (e) => logger.warn({ mcp: e.mcp, error: e.health.error }, 'MCP unhealthy'));
  discovery.on('mcp_healthy', (e) =>
    logger.info({ mcp: e.mcp, latencyMs: e.health.latencyMs }, 'MCP healthy'),
  );
  discovery.on('mcp_log', (e) => logger[e.level === 'warn' ? 'warn' : 'debug']({ source: 'mcp' }, e.message));

  return {
    registry,
    instrument(app) {
      app.addHook('onResponse', async (request, reply) => {
        // The route template keeps cardinality bounded; unmatched paths share one label.
        const route = request.routeOptions.url ?? 'unmatched';
        m.http.observe(
          { method: request.method, route, status_code: String(reply.statusCode) },
          reply.elapsedTime / 1000,
        );
      });
    },
  };
}
