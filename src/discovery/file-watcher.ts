/**
 * Watches one file for content changes, robust to the ways files really
 * change in production: in-place writes, editors' atomic saves (write a
 * temp file, rename it over the original) and Kubernetes ConfigMap updates
 * (a `..data` symlink swapped to a new directory). It watches the parent
 * directory rather than the file's inode, debounces bursts, re-reads the
 * file and reports only when the content really changed. chokidar drops a
 * `change` that follows another within 50 ms, so every read is confirmed by
 * one more a little later: the last write of a burst is never lost.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';

/** Options of {@link FileWatcher}. */
export interface FileWatcherOptions {
  path: string;
  /** Quiet time after the last event before re-reading, ms (100). */
  debounceMs?: number;
  /** Delay of the confirming re-read after each read, ms (300). */
  confirmMs?: number;
  /** Called with the new content after a change. */
  onChange(text: string): void | Promise<void>;
  /** Called when the file cannot be read after an event (for example while it is missing). */
  onError(error: Error): void;
}

/** Watches a file; call {@link start} once, {@link close} to stop. */
export class FileWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private confirmTimer: NodeJS.Timeout | undefined;
  private lastHash: string | undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly path: string;

  constructor(private readonly options: FileWatcherOptions) {
    this.path = resolve(options.path);
  }

  /** Records the content already loaded, so an event without a real change is ignored. */
  markLoaded(text: string): void {
    this.lastHash = hash(text);
  }

  /** Starts watching; resolves once the watcher is ready. */
  async start(): Promise<void> {
    const dir = dirname(this.path);
    const name = basename(this.path);
    this.watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      // ConfigMap mounts change through symlinked directories; follow them.
      followSymlinks: true,
      ignored: (p: string) => {
        const base = basename(p);
        return (
          p !== dir &&
          base !== name &&
          !base.startsWith('..') &&
          !base.startsWith(`.${name}`) &&
          !base.startsWith(name)
        );
      },
    });
    this.watcher.on('all', () => this.schedule());
    await new Promise<void>((ready) => this.watcher!.once('ready', () => ready()));
  }

  /** Re-reads now (also used by tests and by SIGHUP-style reloads). */
  async check(): Promise<void> {
    this.running = this.running.then(() => this.read());
    return this.running;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    clearTimeout(this.confirmTimer);
    await this.watcher?.close();
    this.watcher = undefined;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    clearTimeout(this.confirmTimer);
    this.timer = setTimeout(() => {
      void this.check().then(() => {
        this.confirmTimer = setTimeout(() => void this.check(), this.options.confirmMs ?? 300);
        this.confirmTimer.unref();
      });
    }, this.options.debounceMs ?? 100);
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

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
