/**
 * The circuit breaker of one endpoint (DESIGN.md, Resilience): cockatiel's
 * breaker with a consecutive-failure count, opened by failures that say the
 * endpoint is unwell (transport errors, timeouts, HTTP 408/429/5xx) and
 * untouched by answers that say the request was wrong (a tool's `isError`,
 * JSON-RPC invalid params). cockatiel 3 has no manual close, so a reset
 * swaps in a fresh, closed policy.
 */
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { CircuitBreakerSettings } from './mcp-definition.js';

/** Breaker states as the API and metrics name them. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What the API shows of a breaker. */
export interface BreakerSnapshot {
  state: BreakerState;
  /** Consecutive failures counted so far. */
  failures: number;
  /** ISO time the breaker opened, while it is open or half-open. */
  openedAt?: string;
}

/** Options of {@link EndpointBreaker}. */
export interface EndpointBreakerOptions {
  settings: CircuitBreakerSettings;
  /** Which errors count as the endpoint being unwell. */
  countsAsFailure(error: Error): boolean;
  onStateChange(previous: BreakerState, next: BreakerState): void;
  now?: () => number;
}

/** One endpoint's breaker. */
export class EndpointBreaker {
  private policy!: CircuitBreakerPolicy;
  private counter!: ConsecutiveBreaker;
  private current: BreakerState = 'closed';
  private openedAt: number | undefined;
  private subscriptions: { dispose(): void }[] = [];

  constructor(private readonly options: EndpointBreakerOptions) {
    this.build();
  }

  /** Runs `fn` through the breaker; BrokenCircuitError at once while open. */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    // The caller's own signal, not cockatiel's: a call that waited out a half-open trial
    // is re-run by cockatiel without the signal it was given.
    return this.policy.execute(() => fn(signal), signal);
  }

  /** The breaker's state. */
  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call would be refused right now without trying. */
  get isOpen(): boolean {
    if (this.current !== 'open' || this.openedAt === undefined) return false;
    return (this.options.now ?? Date.now)() - this.openedAt < this.options.settings.resetTimeout;
  }

  snapshot(): BreakerSnapshot {
    const snap: BreakerSnapshot = { state: this.current, failures: this.counter.state };
    if (this.current !== 'closed' && this.openedAt !== undefined)
      snap.openedAt = new Date(this.openedAt).toISOString();
    return snap;
  }

  /** Closes the breaker now (manual reset). */
  reset(): void {
    const previous = this.current;
    this.build();
    if (previous !== 'closed') this.options.onStateChange(previous, 'closed');
  }

  /** Whether the settings differ from `settings`. */
  differs(settings: CircuitBreakerSettings): boolean {
    const s = this.options.settings;
    return s.failureThreshold !== settings.failureThreshold || s.resetTimeout !== settings.resetTimeout;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.subscriptions = [];
  }

  private build(): void {
    this.dispose();
    this.counter = new ConsecutiveBreaker(this.options.settings.failureThreshold);
    // While half-open, the trial must succeed to close the breaker: any error reopens it
    // (cockatiel would otherwise count an uncounted error, a cancel say, as the trial's success).
    this.policy = circuitBreaker(
      handleWhen((error) => this.current === 'half-open' || this.options.countsAsFailure(error)),
      {
        halfOpenAfter: this.options.settings.resetTimeout,
        breaker: this.counter,
      },
    );
    this.current = 'closed';
    this.openedAt = undefined;
    const policy = this.policy;
    this.subscriptions.push(
      policy.onStateChange((state) => {
        if (policy !== this.policy) return;
        const next = toBreakerState(state);
        const previous = this.current;
        if (next === 'open' && previous !== 'open') this.openedAt = (this.options.now ?? Date.now)();
        if (next === 'closed') this.openedAt = undefined;
        this.current = next;
        if (previous !== next) this.options.onStateChange(previous, next);
      }),
    );
  }
}

function toBreakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half-open';
    default:
      return 'open';
  }
}
