/** Readiness of the server for `/ready`: starting, ready, or draining on shutdown. */

/** The states `/ready` reports. */
export type ReadinessState = 'starting' | 'ready' | 'draining';

/** Holds the state; the composition root moves it along. */
export class Readiness {
  private current: ReadinessState = 'starting';

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
}
