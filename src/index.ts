/** orchestrator-mcp as a library: explicit named exports of the public API. */
export * from './discovery/index.js';
export * from './engine/index.js';
export * from './mcp/index.js';
export { OrchestrationEngine, type OrchestrationEngineOptions } from './orchestration-engine.js';
export * from './store/index.js';
export { VERSION } from './version.js';
