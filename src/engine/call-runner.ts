/**
 * Runs one call (a step or a compensation) through the resilience policies
 * of DESIGN.md: per-attempt timeout inside a slot of the engine-wide step
 * bulkhead (`MAX_CONCURRENT_STEPS`), inside a retry with exponential backoff
 * and decorrelated jitter, all composed from cockatiel. The MCP layer adds
 * its own per-MCP circuit breaker and concurrency limit under this.
 */
import {
  type BulkheadPolicy,
  ExponentialBackoff,
  handleWhen,
  type IRetryContext,
  type RetryPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import type { CallPolicy } from './compiled-workflow.js';
import { ErrorCode, isRetryable, OrchestratorError } from './errors.js';

/** Errors a retry may mend. */
const retryable = handleWhen(isRetryable);

/** Hooks of one call, called by the runner as attempts come and go. */
export interface CallHooks {
  /** Before each attempt (1-based); may persist the attempt count first. */
  beforeAttempt(attempt: number): Promise<void>;
  /** After a failed attempt that will be retried after `delayMs`. */
  onRetry(attempt: number, delayMs: number, error: unknown): void;
}

/** How a call ended when it did not succeed. */
export interface CallFailure {
  error: unknown;
  /** True when the call was stopped by `signal` rather than by failing. */
  aborted: boolean;
  /** True when it was stopped while a request was in flight (its effect may have happened). */
  inFlight: boolean;
}

export type CallOutcome =
  | { ok: true; value: unknown; attempts: number }
  | ({ ok: false; attempts: number } & CallFailure);

/** Runs calls under a shared step bulkhead. */
export class CallRunner {
  private readonly backoffs = new WeakMap<CallPolicy, ExponentialBackoff<unknown>>();

  constructor(private readonly bulkhead: BulkheadPolicy) {}

  /**
   * Runs `call` with the policy's timeout and retries. Never rejects: the
   * outcome says what happened. Resolves as soon as `signal` aborts, even
   * while the call is waiting in backoff or for a bulkhead slot.
   */
  async run(
    policy: CallPolicy,
    call: (attempt: number, signal: AbortSignal) => Promise<unknown>,
    hooks: CallHooks,
    signal: AbortSignal,
    firstAttempt = 1,
  ): Promise<CallOutcome> {
    let attempts = firstAttempt - 1;
    let inFlight = false;
    const attemptTimeout = timeout(policy.timeoutMs, TimeoutStrategy.Aggressive);
    const retryPolicy: RetryPolicy = retry(retryable, {
      maxAttempts: Math.max(0, policy.retries - (firstAttempt - 1)),
      backoff: this.backoff(policy),
    });
    const listener = retryPolicy.onRetry((event) => {
      hooks.onRetry(attempts, event.delay, 'error' in event ? event.error : undefined);
    });

    const attempt = async (context: IRetryContext): Promise<unknown> => {
      if (context.signal.aborted) throw abortReason(context.signal);
      attempts += 1;
      const n = attempts;
      await hooks.beforeAttempt(n);
      return this.bulkhead.execute(async ({ signal: slotSignal }) => {
        try {
          return await attemptTimeout.execute(async ({ signal: attemptSignal }) => {
            inFlight = true;
            try {
              return await call(n, attemptSignal);
            } finally {
              inFlight = false;
            }
          }, slotSignal);
        } catch (error) {
          if (error instanceof TaskCancelledError && !slotSignal.aborted) {
            throw new OrchestratorError(
              ErrorCode.StepTimeout,
              `attempt ${n} timed out after ${policy.timeoutMs} ms`,
              {
                cause: error,
              },
            );
          }
          throw error;
        }
      }, context.signal);
    };

    let onAbort: (() => void) | undefined;
    const aborted = new Promise<CallOutcome>((resolve) => {
      onAbort = () => resolve({ ok: false, attempts, error: abortReason(signal), aborted: true, inFlight });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const executed: Promise<CallOutcome> = retryPolicy.execute(attempt, signal).then(
      (value) => ({ ok: true, value, attempts }),
      (error: unknown) =>
        signal.aborted
          ? { ok: false, attempts, error: abortReason(signal), aborted: true, inFlight: false }
          : { ok: false, attempts, error, aborted: false, inFlight: false },
    );
    try {
      return await Promise.race([executed, aborted]);
    } finally {
      listener.dispose();
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  private backoff(policy: CallPolicy): ExponentialBackoff<unknown> {
    let backoff = this.backoffs.get(policy);
    if (!backoff) {
      backoff = new ExponentialBackoff({ initialDelay: policy.initialDelayMs, maxDelay: policy.maxDelayMs });
      this.backoffs.set(policy, backoff);
    }
    return backoff;
  }
}

/** The reason a signal was aborted with, as an error. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new OrchestratorError(ErrorCode.Cancelled, 'cancelled');
}
