/**
 * Watches a directory (depth 0, following symlinks) and calls back once a
 * burst of changes has settled. Used for the registry file and for
 * WORKFLOWS_DIR. It watches the directory, not a file's inode, so editors'
 * atomic saves and Kubernetes ConfigMap updates (a `..data` symlink swapped
 * to a new directory) are seen. chokidar drops a `change` that follows
 * another within 50 ms, so every callback is confirmed by one more a little
 * later: the last write of a burst is never lost. Callbacks never overlap.
 */
import { basename, resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';

/** Options of {@link DirectoryWatcher}. */
export interface DirectoryWatcherOptions {
  dir: string;
  /** Entries (base names) whose events matter; `..`-prefixed ConfigMap entries always do. */
  relevant(name: string): boolean;
  /** Called after events settle; should re-read and compare. */
  onSettled(): Promise<void>;
  /** Quiet time after the last event, ms (100). */
  debounceMs?: number;
  /** Delay of the confirming call after each one, ms (300). */
  confirmMs?: number;
}

/** A debounced, confirmed directory watch. */
export class DirectoryWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private confirmTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly dir: string;

  constructor(private readonly options: DirectoryWatcherOptions) {
    this.dir = resolve(options.dir);
  }

  /** Starts watching; resolves once the watcher is ready. */
  async start(): Promise<void> {
    this.watcher = watch(this.dir, {
      ignoreInitial: true,
      depth: 0,
      followSymlinks: true,
      ignored: (p: string) => {
        if (resolve(p) === this.dir) return false;
        const name = basename(p);
        return !name.startsWith('..') && !this.options.relevant(name);
      },
    });
    this.watcher.on('all', () => this.schedule());
    await new Promise<void>((ready) => this.watcher!.once('ready', () => ready()));
  }

  /** Runs the callback now, after any run in progress. */
  run(): Promise<void> {
    this.running = this.running
      .then(() => (this.closed ? undefined : this.options.onSettled()))
      .catch(() => undefined);
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.confirmTimer);
    await this.watcher?.close();
    this.watcher = undefined;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    clearTimeout(this.confirmTimer);
    this.timer = setTimeout(() => {
      void this.run().then(() => {
        if (this.closed) return;
        this.confirmTimer = setTimeout(() => void this.run(), this.options.confirmMs ?? 300);
        this.confirmTimer.unref();
      });
    }, this.options.debounceMs ?? 100);
  }
}
