/**
 * A way of finding MCP servers (DESIGN.md: file, env, dns, kubernetes,
 * multicast, or a custom one added with `addDiscoveryMethod`). Each answers
 * in the registry's own entry format; the discovery service validates,
 * normalises and merges them.
 */
import type { McpDefinition } from '../mcp/index.js';
import type { RegistryEntry } from './registry-loader.js';

/** A discovery method. */
export interface DiscoveryMethod {
  /** Recorded as each of its MCPs' `source` (shown in `GET /mcps`). */
  readonly name: string;
  /** Every MCP this method knows now, by name, in the registry's entry format. */
  discoverMcps(): Promise<Record<string, RegistryEntry>> | Record<string, RegistryEntry>;
  /**
   * Calls `onChange` whenever `discoverMcps()` would answer differently, and
   * `onError` when watching fails on its own (a dropped watch that cannot be
   * resumed, a bad announcement skipped): the service logs it and counts it in
   * `orchestrator_discovery_errors_total{source}`, the method keeps going.
   * Returns a function that stops watching.
   */
  watch?(
    onChange: () => void,
    onError?: (error: unknown) => void,
  ): (() => void | Promise<void>) | Promise<() => void | Promise<void>>;
  /**
   * Adjusts an MCP another source declared (the env method's `<NAME>_URL`
   * overriding a registry MCP's primary url); returns it unchanged when it
   * has nothing to say, throws ORCH_REGISTRY_INVALID naming a bad setting.
   */
  adjust?(definition: McpDefinition): McpDefinition;
}
