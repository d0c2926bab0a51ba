/** Discovery: the registry file and other methods, merged into one view of MCPs. */

export { DirectoryWatcher, type DirectoryWatcherOptions } from './directory-watcher.js';
export type { DiscoveryMethod } from './discovery-method.js';
export { EnvDiscovery, type EnvDiscoveryOptions, mcpsFromEnv } from './env-discovery.js';
export { substituteEnv } from './env-substitution.js';
export { FileWatcher, type FileWatcherOptions, hash } from './file-watcher.js';
export {
  type DiscoveryEventMap,
  type DiscoveryMetrics,
  type DiscoveryServiceOptions,
  MCPDiscoveryService,
  type McpChangeEvent,
  type RegistryErrorEvent,
  type RegistryLoadedEvent,
} from './mcp-discovery-service.js';
export {
  normalizeEntry,
  parseRegistry,
  REGISTRY_DEFAULTS,
  type RegistryEntry,
  registryFromObject,
} from './registry-loader.js';
export { MCP_NAME_PATTERN, registrySchema } from './registry-schema.js';
