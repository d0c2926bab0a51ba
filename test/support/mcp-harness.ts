/**
 * A registry file in a temp directory, a discovery service watching it and
 * an engine calling its MCPs: the production wiring, on real MCP servers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MCPDiscoveryService, type McpClientPoolOptions, OrchestrationEngine } from '../../src/index.js';
import type { ToolLogEntry } from '../fixtures/fixture-tools.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** A registry endpoint that spawns a stdio fixture server. */
export function stdioEndpoint(kind: 'v1' | 'v2', logFile: string) {
  return {
    protocol: 'stdio',
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'test', 'fixtures', `stdio-${kind}-server.ts`)],
    env: { FIXTURE_LOG: logFile },
    cwd: ROOT,
  };
}

/** Reads a stdio fixture's JSON-lines log. */
export function readToolLog(path: string): ToolLogEntry[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ToolLogEntry);
  } catch {
    return [];
  }
}

/** The wiring of one test. */
export interface McpHarness {
  dir: string;
  registryPath: string;
  discovery: MCPDiscoveryService;
  engine: OrchestrationEngine;
  writeRegistry(registry: unknown): void;
  close(): Promise<void>;
}

/** Writes `registry`, starts discovery (watching) and an engine on it. */
export async function createMcpHarness(
  registry: unknown,
  options: { pool?: McpClientPoolOptions; env?: Record<string, string | undefined> } = {},
): Promise<McpHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-mcp-'));
  const registryPath = join(dir, 'mcp-registry.json');
  const writeRegistry = (value: unknown) => writeFileSync(registryPath, JSON.stringify(value, null, 2));
  writeRegistry(registry);
  const discovery = new MCPDiscoveryService({
    registryPath,
    debounceMs: 20,
    pool: { healthChecks: false, ...options.pool },
    ...(options.env ? { env: options.env } : {}),
  });
  await discovery.initialize();
  const engine = new OrchestrationEngine(discovery, { instanceId: 'test' });
  return {
    dir,
    registryPath,
    discovery,
    engine,
    writeRegistry,
    async close() {
      await discovery.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
