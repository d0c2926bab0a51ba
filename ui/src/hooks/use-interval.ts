import { useEffect, useRef } from 'preact/hooks';

/** Calls `callback` every `ms` while the tab is visible (`ms` null: never). */
export function useInterval(callback: () => void, ms: number | null): void {
  const callbackRef = useRef(callback);
  callbackRef.current = callback;
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => {
      // A background tab need not keep the server busy.
      if (document.visibilityState === 'visible') callbackRef.current();
    }, ms);
    return () => clearInterval(timer);
  }, [ms]);
}
