/**
 * Runs one call (a step or a compensation) through the resilience policies
 * of DESIGN.md: per-attempt timeout inside a slot of the engine-wide step
 * bulkhead (`MAX_CONCURRENT_STEPS`), inside a retry with exponential backoff
 * and decorrelated jitter (cockatiel's bulkhead and retry). The MCP layer
 * adds its own per-MCP circuit breaker and concurrency limit under this.
 *
 * An abort (cancel, rollback, workflow timeout) ends the call at once when
 * nothing is in flight. When a request is in flight, the runner waits for it
 * to settle, up to a grace period, because its outcome decides the saga: a
 * call that still succeeded completed the step; one that was stopped may
 * have had its effect, so it is compensated. The bulkhead slot stays taken
 * until the request settles (or the grace period ends), so a caller slow to
 * honour its signal cannot push more calls in flight than the limit.
 *
 * This is the engine's hot path, run for every step (bench/README.md): an
 * attempt costs one AbortController, one timer and one listener; errors are
 * built only when something fails; a step without retries skips the retry
 * policy, and the backoff of each setting is built once.
 */
import { type BulkheadPolicy, ExponentialBackoff, handleWhen, type IRetryContext, retry } from 'cockatiel';
import type { CallPolicy } from './compiled-workflow.js';
import { ErrorCode, isRetryable, OrchestratorError } from './errors.js';

/** Errors a retry may mend. */
const retryable = handleWhen(isRetryable);

/** Hooks of one call, called by the runner as attempts come and go. */
export interface CallHooks {
  /** Before each attempt (1-based); persists the attempt count first. A rejection ends the call. */
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

/** Options of {@link CallRunner}. */
export interface CallRunnerOptions {
  /** Shared limit of calls in flight (`MAX_CONCURRENT_STEPS`). */
  bulkhead: BulkheadPolicy;
  /** How long an aborted in-flight request may take to settle, ms (5000). */
  abortGraceMs?: number;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The latest request of a call, and how it ended. */
interface Tracked {
  promise: Promise<Settled>;
  settled?: Settled;
}

/** Runs calls under a shared step bulkhead. */
export class CallRunner {
  private readonly backoffs = new Map<string, ExponentialBackoff<unknown>>();
  private readonly bulkhead: BulkheadPolicy;
  private readonly graceMs: number;

  constructor(options: CallRunnerOptions) {
    this.bulkhead = options.bulkhead;
    this.graceMs = options.abortGraceMs ?? 5000;
  }

  /**
   * Runs `call` with the policy's timeout and retries. Never rejects: the
   * outcome says what happened.
   */
  run(
    policy: CallPolicy,
    timeoutMs: number,
    call: (attempt: number, signal: AbortSignal) => Promise<unknown>,
    hooks: CallHooks,
    signal: AbortSignal,
    firstAttempt = 1,
    /** Wait this long before the first attempt (a backoff a restart interrupted), ms. */
    delayFirstMs = 0,
  ): Promise<CallOutcome> {
    let attempts = firstAttempt - 1;
    let current: Tracked | undefined;
    const track = (tracked: Tracked) => {
      current = tracked;
    };

    const attempt = async (context: IRetryContext): Promise<unknown> => {
      if (context.signal.aborted) throw abortReason(context.signal);
      attempts += 1;
      const n = attempts;
      try {
        await hooks.beforeAttempt(n);
      } catch (error) {
        throw new OrchestratorError(
          ErrorCode.StoreError,
          `could not record attempt ${n}: ${(error as Error).message}`,
          {
            cause: error,
            retryable: false,
          },
        );
      }
      return this.bulkhead.execute(
        ({ signal: slotSignal }) => this.attempt(call, n, timeoutMs, slotSignal, track),
        context.signal,
      );
    };

    const retriesLeft = Math.max(0, policy.retries - (firstAttempt - 1));
    let execute: () => Promise<unknown>;
    let dispose: () => void = () => undefined;
    if (retriesLeft === 0) {
      execute = () => attempt({ attempt: 0, signal });
    } else {
      // Unref: a backoff sleep cockatiel cannot cancel must not keep the process alive after a rollback.
      const retryPolicy = retry(retryable, {
        maxAttempts: retriesLeft,
        backoff: this.backoff(policy),
      }).dangerouslyUnref();
      const listener = retryPolicy.onRetry((event) => {
        hooks.onRetry(attempts, event.delay, 'error' in event ? event.error : undefined);
      });
      execute = () => retryPolicy.execute(attempt, signal);
      dispose = () => listener.dispose();
    }

    // One promise settles the call: the attempts' outcome, unless the signal aborted first; after an
    // abort only the abort path decides, so a late rejection cannot hide a success.
    return new Promise<CallOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: CallOutcome) => {
        if (settled) return;
        settled = true;
        dispose();
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const stopped = (inFlight: boolean): CallOutcome => ({
        ok: false,
        attempts,
        error: abortReason(signal),
        aborted: true,
        inFlight,
      });
      const onAbort = () => {
        const tracked = current;
        if (!tracked) return finish(stopped(false));
        if (tracked.settled) {
          // The last request already ended: a success still counts; a failure means nothing was in flight.
          return finish(
            tracked.settled.ok ? { ok: true, value: tracked.settled.value, attempts } : stopped(false),
          );
        }
        void this.within(tracked.promise, signal).then((s) =>
          finish(s.ok ? { ok: true, value: s.value, attempts } : stopped(true)),
        );
      };
      const go = () =>
        execute().then(
          (value) => {
            if (!signal.aborted) finish({ ok: true, value, attempts });
          },
          (error: unknown) => {
            if (!signal.aborted) finish({ ok: false, attempts, error, aborted: false, inFlight: false });
          },
        );
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      if (delayFirstMs > 0) void sleepUnlessAborted(delayFirstMs, signal).then(go);
      else void go();
    });
  }

  /**
   * One attempt in a bulkhead slot: the request gets its own signal, which
   * aborts with ORCH_STEP_TIMEOUT after `timeoutMs` (a timeout counts
   * against an MCP's breaker) or with the slot's reason when the call is
   * stopped (a cancel or rollback does not). Once aborted, the request gets
   * the grace period to settle.
   */
  private attempt(
    call: (attempt: number, signal: AbortSignal) => Promise<unknown>,
    n: number,
    timeoutMs: number,
    slotSignal: AbortSignal,
    track: (tracked: Tracked) => void,
  ): Promise<unknown> {
    const controller = new AbortController();
    let timedOut = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let finish!: (settled: Settled) => void;
    const outcome = new Promise<Settled>((resolve) => {
      finish = resolve;
    });
    const stop = (reason: unknown) => {
      controller.abort(reason);
      graceTimer ??= setTimeout(() => finish({ ok: false, error: reason }), this.graceMs);
      graceTimer.unref?.();
    };
    const onSlotAbort = () => stop(abortReason(slotSignal));
    const timer = setTimeout(() => {
      timedOut = true;
      stop(new OrchestratorError(ErrorCode.StepTimeout, `attempt ${n} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    if (slotSignal.aborted) onSlotAbort();
    else slotSignal.addEventListener('abort', onSlotAbort, { once: true });

    const tracked: Tracked = { promise: settle(call(n, controller.signal)) };
    track(tracked);
    void tracked.promise.then((s) => {
      tracked.settled = s;
      finish(s);
    });
    // `outcome` never rejects: it settles with the request, or with the end of the grace period.
    return outcome.then((result) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      slotSignal.removeEventListener('abort', onSlotAbort);
      if (result.ok) return result.value;
      // A timeout says so, whatever the stopped request rejected with.
      if (timedOut && !slotSignal.aborted) throw controller.signal.reason;
      throw result.error;
    });
  }

  /** Waits for a request; once `signal` aborts, waits at most the grace period more. */
  private within(promise: Promise<Settled>, signal: AbortSignal): Promise<Settled> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const grace = new Promise<Settled>((resolve) => {
      onAbort = () => {
        timer = setTimeout(() => resolve({ ok: false, error: abortReason(signal) }), this.graceMs);
        timer.unref?.();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([promise, grace]).finally(() => {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    });
  }

  private backoff(policy: CallPolicy): ExponentialBackoff<unknown> {
    // Backoff factories are stateless: one per distinct setting serves every call.
    const key = `${policy.initialDelayMs}/${policy.maxDelayMs}`;
    let backoff = this.backoffs.get(key);
    if (!backoff) {
      backoff = new ExponentialBackoff({ initialDelay: policy.initialDelayMs, maxDelay: policy.maxDelayMs });
      this.backoffs.set(key, backoff);
    }
    return backoff;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (the attempt then sees the abort). */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal.addEventListener('abort', done, { once: true });
  });
}

function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** The reason a signal was aborted with, as an error. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new OrchestratorError(ErrorCode.Cancelled, 'cancelled');
}
