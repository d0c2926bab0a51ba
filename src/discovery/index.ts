/** Discovery: the registry file and other methods, merged into one view of MCPs. */

export { DirectoryWatcher, type DirectoryWatcherOptions } from './directory-watcher.js';
export type { DiscoveryMethod } from './discovery-method.js';
export {
  DnsClient,
  type DnsClientOptions,
  type DnsResponse,
  type DnsServer,
  parseDnsServer,
} from './dns-client.js';
export { DnsDiscovery, type DnsDiscoveryOptions, type DnsResolver } from './dns-discovery.js';
export { entryFromInstance, parseTxt, type ServiceInstance, type SrvTarget } from './dns-sd.js';
export { EnvDiscovery, type EnvDiscoveryOptions, mcpsFromEnv } from './env-discovery.js';
export { substituteEnv } from './env-substitution.js';
export { FileWatcher, type FileWatcherOptions, hash } from './file-watcher.js';
export {
  DEFAULT_LABEL_SELECTOR,
  entryFromService,
  KubernetesDiscovery,
  type KubernetesDiscoveryOptions,
  mcpsFromServices,
} from './kubernetes-discovery.js';
export {
  type DiscoveryEventMap,
  type DiscoveryMetrics,
  type DiscoveryServiceOptions,
  MCPDiscoveryService,
  type McpChangeEvent,
  type RegistryErrorEvent,
  type RegistryLoadedEvent,
  SOURCE_PRECEDENCE,
} from './mcp-discovery-service.js';
export { MulticastDiscovery, type MulticastDiscoveryOptions } from './multicast-discovery.js';
export {
  normalizeEntry,
  parseRegistry,
  REGISTRY_DEFAULTS,
  type RegistryEntry,
  registryFromObject,
} from './registry-loader.js';
export { MCP_NAME_PATTERN, registrySchema } from './registry-schema.js';
