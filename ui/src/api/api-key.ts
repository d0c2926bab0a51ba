/**
 * The API key the operator typed, kept in `sessionStorage`: it lives as long
 * as the browser tab and is never written where another tab, or a later
 * visit, could read it.
 */
const STORAGE_KEY = 'orchestrator-mcp.api-key';

/** The key of this tab, if one was given. */
export function loadApiKey(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    // Storage can be disabled (privacy settings); the key then lasts until the page is left.
    return undefined;
  }
}

/** Keeps `key` for this tab, or forgets it. */
export function saveApiKey(key: string | undefined): void {
  try {
    if (key === undefined) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, key);
  } catch {}
}
