/**
 * Facts about the repository itself: the shipped schema matches its source,
 * and the engine keeps to its ports (CONVENTIONS.md: it does no I/O).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaFiles } from '../scripts/export-schemas.js';

const root = join(import.meta.dirname, '..');

describe('repository', () => {
  it('ships JSON Schemas identical to their source (run `npm run schemas` when this fails)', () => {
    for (const [path, text] of Object.entries(schemaFiles())) {
      expect(readFileSync(join(root, path), 'utf8'), path).toBe(text);
    }
  });

  it('keeps src/engine free of I/O: no server, transports, stores, Fastify, chokidar, undici, fs or process.env', () => {
    const forbidden =
      /from ['"](\.\.\/(server|mcp|store|discovery)|fastify|chokidar|undici|pg|better-sqlite3|node:(fs|net|http|https|child_process|dgram|dns))|process\.env/;
    const dir = join(root, 'src', 'engine');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => forbidden.test(readFileSync(join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
