/**
 * Follows one execution's event stream to its end. A stream that drops
 * before the final event (a proxy timeout, a restarting server) is opened
 * again after 1 s, 2 s, 4 s… up to 10 s. Events are not replayed: what
 * happened before a stream opened is in the execution document, which
 * `onOpen` lets the caller read again.
 */

import type { ApiClient } from './api-client.js';
import { isApiError } from './api-error.js';
import type { ExecutionEvent } from './execution-event.js';

/** Callbacks of {@link followExecution}. */
export interface FollowHandlers {
  onEvent(event: ExecutionEvent): void;
  /** Each time a stream opens (the first and every reconnect). */
  onOpen?(): void;
}

const MAX_DELAY_MS = 10_000;

/** Resolves after the final event, or at once when `signal` aborts; rejects on 401 or 404. */
export async function followExecution(
  api: ApiClient,
  id: string,
  handlers: FollowHandlers,
  signal: AbortSignal,
): Promise<void> {
  let finished = false;
  let delay = 1000;
  for (let attempt = 0; !finished && !signal.aborted; attempt++) {
    if (attempt > 0) {
      await sleep(delay, signal);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      if (signal.aborted) return;
    }
    try {
      await api.streamExecution(
        id,
        {
          ...(handlers.onOpen ? { onOpen: handlers.onOpen } : {}),
          onEvent(event) {
            if (event.name === 'workflow_completed') finished = true;
            handlers.onEvent(event);
          },
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) return;
      if (isApiError(error, 401) || isApiError(error, 404)) throw error;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
