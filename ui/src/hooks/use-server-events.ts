/**
 * Keeps `GET /events` open while the page shows: one connection for a
 * whole list, instead of one per row (a browser holds at most six per
 * HTTP/1.1 origin). A stream that drops (a proxy timeout, a restarting
 * server, a client too slow to read) is opened again after 1 s, 2 s, 4 s…
 * up to 10 s; `onOpen` runs on each opening, so the page can read again
 * what it may have missed, since the stream does not replay.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { ServerEventHandlers, ServerEventQuery } from '../api/api-client.js';
import { useApi } from '../api/api-context.js';
import { isApiError } from '../api/api-error.js';

const MAX_DELAY_MS = 10_000;

/** Follows the server's events matching `query` with `handlers` (the latest ones passed). */
export function useServerEvents(query: ServerEventQuery, handlers: ServerEventHandlers): void {
  const api = useApi();
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;
  const key = `${query.workflow ?? ''}|${(query.topics ?? []).join(',')}`;

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const delegate: ServerEventHandlers = {
      onOpen: () => handlersRef.current.onOpen?.(),
      onExecutionEvent: (event) => handlersRef.current.onExecutionEvent?.(event),
      onMcpEvent: (name, payload) => handlersRef.current.onMcpEvent?.(name, payload),
    };
    void (async () => {
      let delay = 1000;
      while (!signal.aborted) {
        const opened = Date.now();
        try {
          await api.streamEvents(query, delegate, signal);
        } catch (error) {
          // Without a key (or with a refused one) the key prompt takes over; trying again would not help.
          if (signal.aborted || isApiError(error, 401)) return;
        }
        // A stream that stayed open a while starts the backoff over.
        if (Date.now() - opened > MAX_DELAY_MS) delay = 1000;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          const stop = () => {
            clearTimeout(timer);
            resolve();
          };
          signal.addEventListener('abort', stop, { once: true });
        });
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
    })();
    return () => controller.abort();
  }, [api, key]);
}
