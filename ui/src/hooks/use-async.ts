import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** A value loaded from the API. */
export interface AsyncState<T> {
  value: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again, keeping the current value on screen meanwhile. */
  reload(): void;
  /** Replaces the value (events, actions) without a request. */
  set(update: (value: T | undefined) => T | undefined): void;
}

/**
 * Runs `load` when `deps` change; an answer to an older request (the user
 * moved on) is dropped rather than shown.
 */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): AsyncState<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // `deps` are the caller's; `generation` changes on reload().
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef.current(controller.signal).then(
      (loaded) => {
        if (controller.signal.aborted) return;
        setValue(() => loaded);
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setError(failure);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [...deps, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const set = useCallback((update: (value: T | undefined) => T | undefined) => setValue(update), []);
  return { value, error, loading, reload, set };
}
