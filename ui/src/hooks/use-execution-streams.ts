/**
 * Keeps one event stream open per execution in `ids` (the running rows of
 * a list): streams of ids that leave are closed, new ids get one. Few at a
 * time, because a browser holds at most six connections to one HTTP/1.1
 * origin and the page needs some for its requests.
 */
import { useEffect, useRef } from 'preact/hooks';
import { useApi } from '../api/api-context.js';
import type { ExecutionEvent } from '../api/execution-event.js';
import { followExecution } from '../api/follow-execution.js';

/** Most streams a list keeps open. */
const MAX_LIST_STREAMS = 3;

/** Calls `onEvent(id, event)` for the events of each execution of `ids`. */
export function useExecutionStreams(
  ids: readonly string[],
  onEvent: (id: string, event: ExecutionEvent) => void,
): void {
  const api = useApi();
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const open = useRef(new Map<string, AbortController>());
  const key = ids.slice(0, MAX_LIST_STREAMS).join('\n');

  useEffect(() => {
    const wanted = new Set(key ? key.split('\n') : []);
    for (const [id, controller] of open.current)
      if (!wanted.has(id)) {
        controller.abort();
        open.current.delete(id);
      }
    for (const id of wanted) {
      if (open.current.has(id)) continue;
      const controller = new AbortController();
      open.current.set(id, controller);
      followExecution(api, id, { onEvent: (event) => onEventRef.current(id, event) }, controller.signal)
        // The list is read again every few seconds: a stream that ends or fails needs no more care.
        .catch(() => undefined)
        .finally(() => {
          if (open.current.get(id) === controller) open.current.delete(id);
        });
    }
  }, [api, key]);

  useEffect(
    () => () => {
      for (const controller of open.current.values()) controller.abort();
      open.current.clear();
    },
    [],
  );
}
