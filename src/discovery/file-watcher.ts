/**
 * Watches one file for content changes (see {@link DirectoryWatcher} for
 * how changes are seen): re-reads the file after events settle and reports
 * only when its content really changed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { DirectoryWatcher } from './directory-watcher.js';

/** Options of {@link FileWatcher}. */
export interface FileWatcherOptions {
  path: string;
  /** Quiet time after the last event before re-reading, ms (100). */
  debounceMs?: number;
  /** Called with the new content after a change. */
  onChange(text: string): void | Promise<void>;
  /** Called when the file cannot be read after an event (for example while it is missing). */
  onError(error: Error): void;
}

/** Watches a file; call {@link start} once, {@link close} to stop. */
export class FileWatcher {
  private lastHash: string | undefined;
  private readonly path: string;
  private readonly watcher: DirectoryWatcher;

  constructor(private readonly options: FileWatcherOptions) {
    this.path = resolve(options.path);
    const name = basename(this.path);
    this.watcher = new DirectoryWatcher({
      dir: dirname(this.path),
      // The file itself and the temp names editors save through.
      relevant: (entry) => entry === name || entry.startsWith(name) || entry.startsWith(`.${name}`),
      onSettled: () => this.read(),
      ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    });
  }

  /** Records the content already loaded, so an event without a real change is ignored. */
  markLoaded(text: string): void {
    this.lastHash = hash(text);
  }

  start(): Promise<void> {
    return this.watcher.start();
  }

  /** Re-reads now. */
  check(): Promise<void> {
    return this.watcher.run();
  }

  close(): Promise<void> {
    return this.watcher.close();
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      this.options.onError(error as Error);
      return;
    }
    const h = hash(text);
    if (h === this.lastHash) return;
    this.lastHash = h;
    try {
      await this.options.onChange(text);
    } catch (error) {
      this.options.onError(error as Error);
    }
  }
}

/** SHA-256 of a text, hex. */
export function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
