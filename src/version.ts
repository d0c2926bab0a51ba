/** The package version, reported to MCP servers as clientInfo and in the API. */
import { createRequire } from 'node:module';

// src/version.ts and dist/version.js both sit one level below package.json.
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;
