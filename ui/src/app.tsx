/**
 * The console's frame: header and navigation, the API key prompt when the
 * server answers 401, and the page of the current path.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient } from './api/api-client.js';
import { ApiContext } from './api/api-context.js';
import { KeyPrompt } from './components/key-prompt.js';
import { ExecutionPage } from './pages/execution-page.js';
import { ExecutionsPage } from './pages/executions-page.js';
import { McpsPage } from './pages/mcps-page.js';
import { WorkflowPage } from './pages/workflow-page.js';
import { WorkflowsPage } from './pages/workflows-page.js';
import { BASE, followLink, type Location, navigate, useLocation } from './router.js';

const SECTIONS = [
  { path: `${BASE}/executions`, label: 'Executions' },
  { path: `${BASE}/workflows`, label: 'Workflows' },
  { path: `${BASE}/mcps`, label: 'MCP servers' },
] as const;

/** The app. */
export function App() {
  const [needsKey, setNeedsKey] = useState(false);
  // Pages start over (and read again) once a key is accepted.
  const [session, setSession] = useState(0);
  const api = useMemo(() => new ApiClient({ onUnauthorized: () => setNeedsKey(true) }), []);
  const location = useLocation();
  useFocusOnNavigation(location.path);

  const forgetKey = () => {
    api.setApiKey(undefined);
    setSession((s) => s + 1);
  };

  return (
    <ApiContext.Provider value={api}>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: one listener for every in-app link (router.ts) */}
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: links activate with Enter as clicks; nothing to add */}
      <div class="app" onClick={followLink}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={`${BASE}/executions`}>
            orchestrator-mcp
          </a>
          <nav aria-label="Console">
            <ul>
              {SECTIONS.map((section) => (
                <li key={section.path}>
                  <a
                    href={section.path}
                    aria-current={location.path.startsWith(section.path) ? 'page' : undefined}
                  >
                    {section.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {api.apiKey !== undefined && !needsKey && (
            <button type="button" class="quiet" onClick={forgetKey}>
              Forget API key
            </button>
          )}
        </header>
        <main id="main" key={session} tabIndex={-1}>
          {needsKey ? (
            <KeyPrompt
              onAccepted={() => {
                setNeedsKey(false);
                setSession((s) => s + 1);
              }}
            />
          ) : (
            <Page location={location} />
          )}
        </main>
      </div>
    </ApiContext.Provider>
  );
}

function Page({ location }: { location: Location }) {
  const parts = location.path
    .slice(BASE.length)
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  const [section, id] = parts;
  useEffect(() => {
    if (parts.length === 0) navigate(`${BASE}/executions`, { replace: true });
  }, [parts.length]);
  if (section === 'executions' && id) return <ExecutionPage key={id} id={id} />;
  if (section === 'executions') return <ExecutionsPage search={location.search} />;
  if (section === 'workflows' && id) return <WorkflowPage key={id} name={id} />;
  if (section === 'workflows') return <WorkflowsPage />;
  if (section === 'mcps') return <McpsPage />;
  if (parts.length === 0) return null;
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Not found
      </h1>
      <p>
        The console has no page at <code>{location.path}</code>. <a href={`${BASE}/executions`}>Executions</a>
      </p>
    </>
  );
}

/** After a navigation, focus goes to the new page's heading, as a page load would put a screen reader there. */
function useFocusOnNavigation(path: string): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('page-title')?.focus();
  }, [path]);
}
