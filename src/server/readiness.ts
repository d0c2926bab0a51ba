/**
 * Readiness of the server for `/ready` (starting, ready, draining on
 * shutdown), and the moment the HTTP server is about to close, when
 * long-lived responses (server-sent events, `?wait`) should end cleanly
 * instead of being cut.
 */

/** The states `/ready` reports. */
export type ReadinessState = 'starting' | 'ready' | 'draining';

/** Holds the state; the composition root moves it along. */
export class Readiness {
  private current: ReadinessState = 'starting';
  private readonly closingListeners = new Set<() => void>();
  private closed = false;

  get state(): ReadinessState {
    return this.current;
  }

  /** Registry, workflows and store are loaded. */
  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  /** Shutting down: no new work. */
  markDraining(): void {
    this.current = 'draining';
  }

  /** The HTTP server closes next: long-lived responses end now. */
  markClosing(): void {
    this.closed = true;
    for (const listener of [...this.closingListeners]) listener();
    this.closingListeners.clear();
  }

  /** Calls `listener` when the server starts closing (at once if it has); returns an unsubscribe. */
  onClosing(listener: () => void): () => void {
    if (this.closed) {
      listener();
      return () => undefined;
    }
    this.closingListeners.add(listener);
    return () => this.closingListeners.delete(listener);
  }
}
