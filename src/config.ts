/**
 * Configuration from the environment (DESIGN.md, Configuration), validated
 * at start: a bad value stops the process with one line naming the variable
 * and the form it expects. The only module that reads `process.env` for the
 * server is `main.ts`, which hands it here.
 */

import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { parseDnsServer } from './discovery/dns-client.js';
import { mcpsFromEnv } from './discovery/env-discovery.js';
import type { OrchestratorError } from './engine/index.js';

/** Log levels pino knows. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Discovery methods by name (`file` by default). */
export const DISCOVERY_METHOD_NAMES = ['file', 'env', 'dns', 'kubernetes', 'multicast'] as const;

/** The validated configuration. */
export interface Config {
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** `pretty` only when asked: JSON lines otherwise. */
  logFormat: 'json' | 'pretty';
  registryPath: string;
  workflowsDir: string;
  databaseUrl: string;
  discoveryMethods: string[];
  kubernetesNamespace: string | undefined;
  kubernetesLabelSelector: string;
  maxConcurrentWorkflows: number;
  maxQueuedWorkflows: number;
  maxConcurrentSteps: number;
  defaultTimeout: number;
  healthCheckInterval: number;
  apiKeys: string[];
  shutdownTimeout: number;
  leaseDuration: number;
  bodyLimit: number;
  maxWorkflowSteps: number;
  instanceId: string;
  dnsDiscoveryNames: string[];
  dnsServers: string[];
  dnsDiscoveryInterval: number;
  /** `MULTICAST_DISCOVERY_INTERFACE`: the IPv4 address of the interface mDNS queries use (all when unset). */
  multicastInterface: string | undefined;
}

/** A configuration error: one line, naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

// Kubernetes label selector syntax: requirements joined by commas, each
// `key`, `!key`, `key=value`, `key==value`, `key!=value` or `key in|notin (a,b)`;
// keys may carry a DNS prefix (`mcp.orchestrator.io/enabled`).
const LABEL_KEY = `(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const LABEL_VALUE = `(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?`;
const REQUIREMENT = String.raw`\s*(?:!?${LABEL_KEY}|${LABEL_KEY}\s*(?:==?|!=)\s*${LABEL_VALUE}|${LABEL_KEY}\s+(?:in|notin)\s*\(\s*${LABEL_VALUE}(?:\s*,\s*${LABEL_VALUE})*\s*\))\s*`;
const LABEL_SELECTOR = new RegExp(`^${REQUIREMENT}(?:,${REQUIREMENT})*$`);

function text(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got '${raw}'`);
  }
  const value = Number(raw.trim());
  if (value < min || value > max)
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${value}`);
  return value;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name, fallback).toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got '${env[name]}'`);
  }
  return value as T;
}

/** Reads and validates the configuration; throws {@link ConfigError} on the first bad variable. */
export function loadConfig(env: Env): Config {
  const databaseUrl = text(env, 'DATABASE_URL', 'sqlite:./data/orchestrator.db');
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new ConfigError(
      'DATABASE_URL',
      'expected sqlite:<path>, sqlite::memory: or postgres://user:password@host:port/database',
    );
  }
  const discoveryMethods = list(env, 'DISCOVERY_METHODS');
  for (const method of discoveryMethods) {
    if (!(DISCOVERY_METHOD_NAMES as readonly string[]).includes(method)) {
      throw new ConfigError(
        'DISCOVERY_METHODS',
        `expected a comma list of ${DISCOVERY_METHOD_NAMES.join(', ')}, got '${method}'`,
      );
    }
  }
  if (discoveryMethods.includes('env')) {
    // The MCPs the environment declares are checked now, so a typo stops start-up with its name.
    try {
      mcpsFromEnv(env);
    } catch (error) {
      const first = (error as OrchestratorError).errors?.[0];
      if (!first) throw error;
      throw new ConfigError(first.path, first.message);
    }
  }
  const dnsDiscoveryNames = list(env, 'DNS_DISCOVERY_NAMES');
  for (const name of dnsDiscoveryNames) {
    if (!/^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)*\.?$/.test(name) || name.length > 253)
      throw new ConfigError('DNS_DISCOVERY_NAMES', `expected a comma list of DNS names, got '${name}'`);
  }
  if (discoveryMethods.includes('dns') && dnsDiscoveryNames.length === 0) {
    throw new ConfigError(
      'DNS_DISCOVERY_NAMES',
      'is required when DISCOVERY_METHODS includes dns (e.g. _mcp._tcp.services.example.com)',
    );
  }
  const labelSelector = text(env, 'KUBERNETES_LABEL_SELECTOR', 'mcp.orchestrator.io/enabled=true');
  if (!LABEL_SELECTOR.test(labelSelector)) {
    throw new ConfigError(
      'KUBERNETES_LABEL_SELECTOR',
      `expected a label selector such as app=mcp,tier!=test, got '${labelSelector}'`,
    );
  }
  const apiKeys = list(env, 'API_KEYS');
  for (const key of apiKeys) {
    if (key.length < 16)
      throw new ConfigError('API_KEYS', 'expected a comma list of keys of at least 16 characters');
  }
  const dnsServers = list(env, 'DNS_SERVERS');
  for (const server of dnsServers) {
    try {
      parseDnsServer(server);
    } catch (error) {
      throw new ConfigError('DNS_SERVERS', (error as Error).message);
    }
  }
  const multicastInterface = env.MULTICAST_DISCOVERY_INTERFACE?.trim() || undefined;
  if (multicastInterface !== undefined && isIP(multicastInterface) !== 4) {
    throw new ConfigError(
      'MULTICAST_DISCOVERY_INTERFACE',
      `expected the IPv4 address of a network interface, got '${multicastInterface}'`,
    );
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: text(env, 'HOST', '0.0.0.0'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    registryPath: text(env, 'REGISTRY_PATH', './mcp-registry.json'),
    workflowsDir: text(env, 'WORKFLOWS_DIR', './workflows'),
    databaseUrl,
    discoveryMethods: discoveryMethods.length > 0 ? discoveryMethods : ['file'],
    kubernetesNamespace: env.KUBERNETES_NAMESPACE?.trim() || undefined,
    kubernetesLabelSelector: labelSelector,
    maxConcurrentWorkflows: integer(env, 'MAX_CONCURRENT_WORKFLOWS', 100, 1, 100_000),
    maxQueuedWorkflows: integer(env, 'MAX_QUEUED_WORKFLOWS', 1000, 0, 10_000_000),
    maxConcurrentSteps: integer(env, 'MAX_CONCURRENT_STEPS', 50, 1, 100_000),
    defaultTimeout: integer(env, 'DEFAULT_TIMEOUT', 300_000, 1, 2_147_483_647),
    healthCheckInterval: integer(env, 'HEALTH_CHECK_INTERVAL', 30_000, 100, 2_147_483_647),
    apiKeys,
    shutdownTimeout: integer(env, 'SHUTDOWN_TIMEOUT', 30_000, 0, 3_600_000),
    leaseDuration: integer(env, 'LEASE_DURATION', 30_000, 300, 3_600_000),
    bodyLimit: integer(env, 'BODY_LIMIT', 1_048_576, 1024, 1_073_741_824),
    maxWorkflowSteps: integer(env, 'MAX_WORKFLOW_STEPS', 500, 1, 100_000),
    instanceId: text(env, 'INSTANCE_ID', hostname()),
    dnsDiscoveryNames,
    dnsServers,
    dnsDiscoveryInterval: integer(env, 'DNS_DISCOVERY_INTERVAL', 30_000, 1000, 86_400_000),
    multicastInterface,
  };
}
