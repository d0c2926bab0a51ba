/**
 * WORKFLOWS_DIR: every `*.yaml`, `*.yml` and `*.json` file in it is a
 * workflow, registered at start and again whenever it changes. A changed
 * file must carry a new version (the same version with other content is
 * refused, as over the API); a file that fails is reported and its last good
 * version stays registered; a deleted file unregisters its workflow.
 * Executions already running keep the version they started with.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
// The modules themselves, not the discovery index: that one would load every method's client.
import { DirectoryWatcher } from '../discovery/directory-watcher.js';
import { hash } from '../discovery/file-watcher.js';
import { serializeError, type WorkflowEngine } from '../engine/index.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** What happened to one file. */
export interface WorkflowFileResult {
  file: string;
  workflow?: string;
  outcome: 'registered' | 'unchanged' | 'error' | 'removed';
  error?: string;
}

/** Options of {@link WorkflowsDirectory}. */
export interface WorkflowsDirectoryOptions {
  dir: string;
  engine: WorkflowEngine;
  logger: Logger;
  watch?: boolean;
  debounceMs?: number;
  /** Called after each scan with what changed. */
  onScan?(results: WorkflowFileResult[]): void;
}

interface Known {
  hash: string;
  workflow?: string;
}

/** Loads and watches a directory of workflow files. */
export class WorkflowsDirectory {
  private readonly dir: string;
  private readonly known = new Map<string, Known>();
  private watcher: DirectoryWatcher | undefined;

  constructor(private readonly options: WorkflowsDirectoryOptions) {
    this.dir = resolve(options.dir);
  }

  /** Registers every file now (a missing directory is logged, not fatal), then watches. */
  async start(): Promise<WorkflowFileResult[]> {
    const results = await this.scan();
    if (this.options.watch !== false) {
      this.watcher = new DirectoryWatcher({
        dir: this.dir,
        relevant: (name) => EXTENSIONS.has(extname(name).toLowerCase()),
        onSettled: async () => {
          // Not `onScan?.(await this.scan())`: without a listener that would skip the scan itself.
          const results = await this.scan();
          this.options.onScan?.(results);
        },
        ...(this.options.debounceMs !== undefined ? { debounceMs: this.options.debounceMs } : {}),
      });
      await this.watcher.start().catch((error: unknown) => {
        this.options.logger.warn(
          { dir: this.dir, error: (error as Error).message },
          'cannot watch WORKFLOWS_DIR',
        );
      });
    }
    return results;
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }

  /** Compares the directory with what was loaded and applies the differences. */
  async scan(): Promise<WorkflowFileResult[]> {
    const { logger, engine } = this.options;
    let names: string[];
    try {
      names = (await readdir(this.dir))
        .filter((n) => !n.startsWith('.') && EXTENSIONS.has(extname(n).toLowerCase()))
        .sort();
    } catch (error) {
      logger.warn(
        { dir: this.dir, error: (error as Error).message },
        'WORKFLOWS_DIR cannot be read; no workflows loaded from it',
      );
      return [];
    }
    const results: WorkflowFileResult[] = [];
    for (const name of names) {
      const file = join(this.dir, name);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue; // Vanished between readdir and read: the next scan sees it gone.
      }
      const h = hash(text);
      const known = this.known.get(name);
      if (known?.hash === h) continue;
      try {
        const { workflow, created } = await engine.registerWorkflow(text);
        this.known.set(name, { hash: h, workflow: workflow.name });
        results.push({ file: name, workflow: workflow.name, outcome: created ? 'registered' : 'unchanged' });
        logger.info(
          { file: name, workflow: workflow.name, version: workflow.version, created },
          'workflow file loaded',
        );
      } catch (error) {
        // The last good version stays registered; remember the hash so the error is reported once.
        this.known.set(name, { hash: h, ...(known?.workflow ? { workflow: known.workflow } : {}) });
        const serialized = serializeError(error);
        results.push({ file: name, outcome: 'error', error: serialized.message });
        logger.error(
          { file: name, error: serialized.message, errors: (error as { errors?: unknown }).errors },
          'workflow file rejected',
        );
      }
    }
    for (const [name, known] of this.known) {
      if (names.includes(name)) continue;
      this.known.delete(name);
      if (known.workflow && !this.servedByAnotherFile(known.workflow)) {
        await engine.unregisterWorkflow(known.workflow);
        results.push({ file: name, workflow: known.workflow, outcome: 'removed' });
        logger.info({ file: name, workflow: known.workflow }, 'workflow file removed; workflow unregistered');
      }
    }
    return results;
  }

  private servedByAnotherFile(workflow: string): boolean {
    return [...this.known.values()].some((k) => k.workflow === workflow);
  }
}
