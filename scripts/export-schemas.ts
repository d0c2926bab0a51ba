/**
 * Writes the shipped JSON Schemas (schemas/*.json) from their TypeScript
 * source. `npm run schemas` after changing a schema; a test fails while the
 * committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workflowSchema } from '../src/engine/index.js';

/** The files this script writes, by path relative to the repository root. */
export function schemaFiles(): Record<string, string> {
  return {
    'schemas/workflow.schema.json': `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...workflowSchema() }, null, 2)}\n`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const [path, text] of Object.entries(schemaFiles())) {
    writeFileSync(`${root}${path}`, text);
    console.log(`wrote ${path}`);
  }
}
