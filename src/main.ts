/**
 * The composition root: the one place that reads the environment and wires
 * store, discovery, engine, telemetry and the HTTP API together. `start()`
 * is also what the integration tests run, on port 0.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Config, ConfigError, loadConfig } from './config.js';
// Each discovery module on its own: Kubernetes' client (tens of MB) is loaded only when used.
import type { DiscoveryMethod } from './discovery/discovery-method.js';
import { DnsDiscovery } from './discovery/dns-discovery.js';
import { EnvDiscovery } from './discovery/env-discovery.js';
import { MCPDiscoveryService } from './discovery/mcp-discovery-service.js';
import { MulticastDiscovery } from './discovery/multicast-discovery.js';
import { isOrchestratorError, WorkflowEngine } from './engine/index.js';
import { app } from './server/app.js';
import { createLogger } from './server/logger.js';
import { Readiness } from './server/readiness.js';
import { createTelemetry } from './server/telemetry.js';
import { WorkflowsDirectory } from './server/workflows-dir.js';
import { openStore, PostgresChangeBus } from './store/index.js';

/** A running orchestrator. */
export interface Orchestrator {
  config: Config;
  fastify: FastifyInstance;
  engine: WorkflowEngine;
  discovery: MCPDiscoveryService;
  readiness: Readiness;
  logger: Logger;
  /** Where it listens, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /**
   * Graceful shutdown: `/ready` turns 503, new executions are refused,
   * running ones get up to SHUTDOWN_TIMEOUT to finish, then the HTTP server,
   * MCP clients (and stdio children) and the store close. Resolves true when
   * every execution finished in time.
   */
  shutdown(): Promise<boolean>;
}

/** Options of {@link start} besides the configuration. */
export interface StartOptions {
  /** Environment for `${VAR}` in the registry (process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
}

/** Starts the orchestrator with a validated configuration. */
export async function start(config: Config, options: StartOptions = {}): Promise<Orchestrator> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat });
  const readiness = new Readiness();
  const store = openStore(config.databaseUrl, { leaseMs: config.leaseDuration });
  // Replicas sharing PostgreSQL tell each other about registrations and breaker resets.
  const bus = store.shared
    ? new PostgresChangeBus({
        connectionString: config.databaseUrl,
        onError: (error) =>
          logger.warn({ error: error.message }, 'change notifications lost their connection; reconnecting'),
      })
    : undefined;
  const discovery = new MCPDiscoveryService({
    // Precedence is the service's (SOURCE_PRECEDENCE), not the order named.
    registryPath: config.discoveryMethods.includes('file') ? config.registryPath : null,
    methods: await discoveryMethods(config, options.env ?? process.env),
    healthCheckInterval: config.healthCheckInterval,
    env: options.env ?? process.env,
  });
  const engine = new WorkflowEngine({
    store,
    stepCaller: discovery.pool,
    mcpLookup: discovery.pool,
    instanceId: config.instanceId,
    maxConcurrentWorkflows: config.maxConcurrentWorkflows,
    maxQueuedWorkflows: config.maxQueuedWorkflows,
    maxConcurrentSteps: config.maxConcurrentSteps,
    leaseMs: config.leaseDuration,
    maxSteps: config.maxWorkflowSteps,
    defaultTimeoutMs: config.defaultTimeout,
    ...(bus ? { changeBus: bus } : {}),
    readFile: (path) => readFile(path, 'utf8'),
  });
  const telemetry = createTelemetry({ engine, discovery, logger });
  const fastify: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // A caller's x-request-id is kept when it is a plain token, so it cannot forge or bloat log lines.
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    },
    forceCloseConnections: true,
    // Unknown fields are an error to report, not something to drop silently.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await fastify.register(app, {
    engine,
    discovery,
    telemetry,
    readiness,
    apiKeys: config.apiKeys,
    maxWorkflowSteps: config.maxWorkflowSteps,
    ...(bus
      ? {
          onBreakerReset: (mcp: string) =>
            void bus
              .publish({ kind: 'breaker_reset', mcp, origin: config.instanceId })
              .catch(() => undefined),
        }
      : {}),
  });

  // Listen first: /health answers (and /ready says 503) while the registry,
  // the stored workflows and WORKFLOWS_DIR load, so a slow start is not taken for a dead process.
  const address = await fastify.listen({ port: config.port, host: config.host });
  const workflows = new WorkflowsDirectory({ dir: config.workflowsDir, engine, logger });
  let stopBreakerResets: (() => Promise<void>) | undefined;
  try {
    await discovery.initialize();
    if (bus) {
      stopBreakerResets = await bus.subscribe((change) => {
        if (change.kind === 'breaker_reset' && change.origin !== config.instanceId) {
          discovery.resetCircuitBreaker(change.mcp);
          logger.info({ mcp: change.mcp, from: change.origin }, 'circuit breaker reset by another replica');
        }
      });
    }
    await engine.initialize();
    await workflows.start();
  } catch (error) {
    await workflows.close();
    await fastify.close();
    await engine.close();
    await stopBreakerResets?.();
    await bus?.close();
    await discovery.close();
    await store.close();
    throw error;
  }
  readiness.markReady();
  logger.info(
    {
      address,
      instanceId: config.instanceId,
      mcps: discovery.getMcps().length,
      workflows: engine.listWorkflows().length,
      resumed: engine.resumedExecutions,
    },
    'orchestrator ready',
  );

  let stopping: Promise<boolean> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      readiness.markDraining();
      logger.info({ timeoutMs: config.shutdownTimeout }, 'shutting down: draining executions');
      const drained = await engine.drain(config.shutdownTimeout);
      if (!drained)
        logger.warn(
          { active: engine.getMetrics().activeWorkflows },
          'shutdown timeout: executions still running',
        );
      await workflows.close();
      // Server-sent events and ?wait requests end with what they have, rather than being cut.
      readiness.markClosing();
      await fastify.close();
      await engine.close();
      await stopBreakerResets?.();
      await bus?.close();
      // The store closes before the MCP clients: an execution that outlived the drain stays
      // recorded as running (resumable), instead of recording failures as its calls are cut.
      await store.close();
      await discovery.close();
      logger.info({ drained }, 'stopped');
      return drained;
    })();
    return stopping;
  };
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  return { config, fastify, engine, discovery, readiness, logger, url, shutdown };
}

/** The discovery methods `DISCOVERY_METHODS` names, besides the file. */
async function discoveryMethods(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): Promise<DiscoveryMethod[]> {
  const named = new Set(config.discoveryMethods);
  const methods: DiscoveryMethod[] = [];
  if (named.has('env')) methods.push(new EnvDiscovery({ env }));
  if (named.has('kubernetes')) {
    const { KubernetesDiscovery } = await import('./discovery/kubernetes-discovery.js');
    try {
      methods.push(
        new KubernetesDiscovery({
          namespace: config.kubernetesNamespace,
          labelSelector: config.kubernetesLabelSelector,
          env,
        }),
      );
    } catch (error) {
      // Only a client configuration that cannot be read gets here; the API server is not asked yet.
      const variable = env.KUBECONFIG ? 'KUBECONFIG' : 'DISCOVERY_METHODS';
      const from = env.KUBECONFIG
        ? 'the kubeconfig: '
        : env.KUBERNETES_SERVICE_HOST
          ? "the pod's service account: "
          : '';
      throw new ConfigError(
        variable,
        `kubernetes discovery cannot start: ${from}${(error as Error).message}`,
      );
    }
  }
  if (named.has('dns')) {
    methods.push(
      new DnsDiscovery({
        names: config.dnsDiscoveryNames,
        servers: config.dnsServers,
        intervalMs: config.dnsDiscoveryInterval,
      }),
    );
  }
  if (named.has('multicast')) {
    methods.push(
      new MulticastDiscovery(
        config.multicastInterface ? { mdns: { interface: config.multicastInterface } } : {},
      ),
    );
  }
  return methods;
}

/** Runs the server from the environment, with signal handling. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`orchestrator-mcp: invalid configuration: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  let orchestrator: Orchestrator;
  try {
    orchestrator = await start(config);
  } catch (error) {
    // Some settings can only be judged when used (a kubeconfig): still a configuration error.
    if (error instanceof ConfigError) {
      process.stderr.write(`orchestrator-mcp: invalid configuration: ${error.message}\n`);
      process.exit(78);
    }
    const detail =
      isOrchestratorError(error) && error.errors?.length
        ? ` (${error.errors.map((e) => `${e.path}: ${e.message}`).join('; ')})`
        : '';
    process.stderr.write(`orchestrator-mcp: cannot start: ${(error as Error).message}${detail}\n`);
    process.exit(1);
  }
  // `on`, not `once`: a second Ctrl-C (or a wrapper relaying the first) must not kill the
  // process mid-drain, which is what Node does to a signal nobody listens to.
  let stoppingSince: number | undefined;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stoppingSince !== undefined) {
        // One Ctrl-C often arrives twice (the terminal's, then a wrapper such as tsx relaying it).
        const echo = Date.now() - stoppingSince < 1000;
        orchestrator.logger[echo ? 'debug' : 'warn'](
          { signal },
          'already shutting down; SIGKILL stops at once',
        );
        return;
      }
      stoppingSince = Date.now();
      orchestrator.logger.info({ signal }, 'signal received');
      void orchestrator.shutdown().then(() => process.exit(0));
    });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
