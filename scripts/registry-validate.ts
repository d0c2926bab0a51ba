/**
 * `npm run registry:validate [path]`: validates an MCP registry file
 * (REGISTRY_PATH or ./mcp-registry.json by default) with the server's own
 * rules, `${VAR}` substitution included. Prints every problem with its JSON
 * path and exits 1, or a summary and 0.
 */
import { readFileSync } from 'node:fs';
import { isOrchestratorError, parseRegistry } from '../src/index.js';

const path = process.argv[2] ?? process.env.REGISTRY_PATH ?? './mcp-registry.json';
try {
  const mcps = parseRegistry(readFileSync(path, 'utf8'), { env: process.env, source: path });
  console.log(`${path}: valid, ${mcps.length} MCP${mcps.length === 1 ? '' : 's'}`);
  for (const mcp of mcps) {
    const endpoints = mcp.endpoints.map((e) => `${e.name} (${e.protocol})`).join(', ');
    console.log(
      `  ${mcp.name}: ${mcp.status}, endpoints ${endpoints}${mcp.tools ? `, tools ${mcp.tools.join(', ')}` : ''}`,
    );
  }
} catch (error) {
  if (isOrchestratorError(error) && error.errors?.length) {
    console.error(`${path}: invalid`);
    for (const issue of error.errors) console.error(`  ${issue.path || '(file)'}: ${issue.message}`);
  } else {
    console.error(`${path}: ${(error as Error).message}`);
  }
  process.exit(1);
}
