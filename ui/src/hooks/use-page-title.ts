import { useEffect } from 'preact/hooks';

/** Names the tab after the page, so history, tabs and screen readers tell pages apart. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · orchestrator-mcp`;
  }, [title]);
}
