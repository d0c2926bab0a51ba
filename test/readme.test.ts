/**
 * The README's promises, run as written: its programmatic example against
 * the shipped demo MCP servers, and every workflow it ships validating.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/mcp-harness.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('runs the library example as printed, against the demo', () => {
    const section = readme.slice(readme.indexOf('## Use it as a library'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain('new OrchestrationEngine(discoveryService');
    const dir = mkdtempSync(join(tmpdir(), 'orch-readme-'));
    try {
      const file = join(dir, 'example.mts');
      // In this repository the package is its own source.
      writeFileSync(
        file,
        code!.replace("from 'orchestrator-mcp'", `from ${JSON.stringify(join(ROOT, 'src', 'index.ts'))}`),
      );
      const result = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const out = result.stdout;
      expect(out).toMatch(/step get_contact done in \d+ ms/);
      expect(out).toMatch(/step send_sms done in \d+ ms/);
      expect(out).toMatch(/execution [0-9a-f-]{36}: completed/);
      expect(out).toContain("message: 'Coach Carter says: Hi! This is your coach.'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ships a registry and workflows that validate', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/registry-validate.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('./mcp-registry.json: valid, 3 MCPs');
    const broken = mkdtempSync(join(tmpdir(), 'orch-reg-'));
    try {
      writeFileSync(
        join(broken, 'r.json'),
        JSON.stringify({ mcps: { a: { endpoints: { primary: { protocol: 'http' } } } } }),
      );
      const bad = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/registry-validate.ts', join(broken, 'r.json')],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('mcps.a.endpoints.primary.url: is required for protocol http');
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
