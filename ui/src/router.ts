/**
 * Routes of the console, in the browser: paths under `/ui` (the server
 * answers each with the app), changed with the History API so that links
 * can be opened in a new tab, bookmarked and shared.
 */
import { useEffect, useState } from 'preact/hooks';

/** Where the console lives. */
export const BASE = '/ui';

/** The current path and query. */
export interface Location {
  path: string;
  search: URLSearchParams;
}

const listeners = new Set<() => void>();
const current = (): Location => ({
  path: window.location.pathname,
  search: new URLSearchParams(window.location.search),
});
window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

/** Goes to `to` (a path under {@link BASE}, with its query). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

/** The location, re-rendering on every change. */
export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const listener = () => setLocation(current());
    listeners.add(listener);
    // A child's effect runs before this one and may have navigated already (the redirect of
    // bare /ui): catch up with that, or the page stays on the old location.
    const now = current();
    if (now.path !== location.path || now.search.toString() !== location.search.toString()) listener();
    return () => void listeners.delete(listener);
  }, []);
  return location;
}

/**
 * Click handler of in-app links: a plain click navigates in place; a click
 * with a modifier (new tab, new window, download) is left to the browser.
 */
export function followLink(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = (event.target as Element | null)?.closest('a');
  const href = anchor?.getAttribute('href');
  if (!href?.startsWith(`${BASE}/`) && href !== BASE) return;
  event.preventDefault();
  navigate(href);
}
