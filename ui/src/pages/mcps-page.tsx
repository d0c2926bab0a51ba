/**
 * The MCP servers: where each came from, its health and latency, its
 * circuit breakers and tools, with "check now" and "reset breaker". Read
 * again when the server's event stream says an MCP changed (health,
 * breaker, tools, discovery), and every 15 s for latencies and for what
 * other replicas saw.
 */
import { useState } from 'preact/hooks';
import { useApi } from '../api/api-context.js';
import { errorMessage } from '../api/api-error.js';
import type { McpDocument } from '../api/types.js';
import { ErrorAlert } from '../components/error-alert.js';
import { StatusBadge } from '../components/status-badge.js';
import { useAsync } from '../hooks/use-async.js';
import { useInterval } from '../hooks/use-interval.js';
import { usePageTitle } from '../hooks/use-page-title.js';
import { useServerEvents } from '../hooks/use-server-events.js';
import { formatDuration, formatTime } from '../model/format.js';

const REFRESH_MS = 15_000;

/** The MCPs page. */
export function McpsPage() {
  usePageTitle('MCP servers');
  const api = useApi();
  const mcps = useAsync(() => api.listMcps(), []);
  useInterval(mcps.reload, REFRESH_MS);
  useServerEvents({ topics: ['mcps'] }, { onOpen: mcps.reload, onMcpEvent: mcps.reload });
  // Results of the buttons, said by screen readers as they come.
  const [announcement, setAnnouncement] = useState('');
  const replace = (doc: McpDocument) =>
    mcps.set((page) => page && { ...page, items: page.items.map((m) => (m.name === doc.name ? doc : m)) });
  const items = mcps.value?.items ?? [];
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        MCP servers
      </h1>
      <p class="sr-only" role="status">
        {announcement}
      </p>
      <ErrorAlert error={mcps.error} context="MCP servers could not be read" />
      {mcps.value && items.length === 0 && <p class="muted">No MCP server is known.</p>}
      <div class="cards">
        {items.map((mcp) => (
          <McpCard key={mcp.name} mcp={mcp} onChange={replace} announce={setAnnouncement} />
        ))}
      </div>
    </>
  );
}

interface McpCardProps {
  mcp: McpDocument;
  onChange(doc: McpDocument): void;
  announce(text: string): void;
}

function McpCard({ mcp, onChange, announce }: McpCardProps) {
  const api = useApi();
  const [busy, setBusy] = useState<'check' | 'reset'>();
  const [failure, setFailure] = useState<string>();
  const headingId = `mcp-${mcp.name}`;

  const run = async (action: 'check' | 'reset') => {
    setBusy(action);
    setFailure(undefined);
    try {
      if (action === 'check') {
        const { name: _name, ...health } = await api.checkMcpHealth(mcp.name);
        onChange({ ...mcp, health });
        const latency = health.latencyMs === null ? '' : `, ${formatDuration(health.latencyMs)}`;
        announce(`${mcp.name}: ${health.status}${latency}`);
      } else {
        await api.resetCircuitBreaker(mcp.name);
        onChange(await api.getMcp(mcp.name));
        announce(`${mcp.name}: circuit breaker closed`);
      }
    } catch (error) {
      setFailure(errorMessage(error));
    }
    setBusy(undefined);
  };

  return (
    <section
      class="card"
      aria-labelledby={headingId}
      data-mcp={mcp.name}
      data-health={mcp.health.status}
      data-breaker={mcp.circuitBreaker.state}
    >
      <h2 id={headingId}>
        {mcp.name}{' '}
        <span class="muted">
          {mcp.displayName !== mcp.name ? mcp.displayName : ''} {mcp.version ? `v${mcp.version}` : ''}
        </span>
      </h2>
      <dl class="facts">
        <dt>Status</dt>
        <dd>{mcp.status}</dd>
        <dt>Source</dt>
        <dd>{mcp.source}</dd>
        <dt>Health</dt>
        <dd>
          <StatusBadge status={mcp.health.status} kind="health" />
          {mcp.health.latencyMs !== null && <> {formatDuration(mcp.health.latencyMs)}</>}
          {mcp.health.checkedAt && <span class="muted"> · checked {formatTime(mcp.health.checkedAt)}</span>}
          {mcp.health.error && <div class="field-error">{mcp.health.error}</div>}
        </dd>
        <dt>Breaker</dt>
        <dd>
          <StatusBadge status={mcp.circuitBreaker.state} kind="breaker" />{' '}
          <span class="muted">
            {mcp.circuitBreaker.failures} failure{mcp.circuitBreaker.failures === 1 ? '' : 's'}
            {mcp.circuitBreaker.openedAt ? ` · open since ${formatTime(mcp.circuitBreaker.openedAt)}` : ''}
          </span>
        </dd>
        <dt>Endpoints</dt>
        <dd>
          <ul class="plain">
            {mcp.endpoints.map((endpoint) => (
              <li key={endpoint.name}>
                {endpoint.name}: {endpoint.protocol}{' '}
                <span class="mono">{endpoint.url ?? endpoint.command ?? ''}</span>{' '}
                <StatusBadge status={endpoint.circuitBreaker.state} kind="breaker" />
              </li>
            ))}
          </ul>
        </dd>
        {mcp.capabilities.length > 0 && (
          <>
            <dt>Capabilities</dt>
            <dd>{mcp.capabilities.join(', ')}</dd>
          </>
        )}
        <dt>Tools</dt>
        <dd>{mcp.tools === null ? <span class="muted">from tools/list</span> : mcp.tools.join(', ')}</dd>
      </dl>
      <p class="actions">
        <button
          type="button"
          onClick={() => run('check')}
          disabled={busy !== undefined}
          aria-busy={busy === 'check'}
        >
          {busy === 'check' ? 'Checking…' : 'Check now'}
          <span class="sr-only"> {mcp.name}</span>
        </button>{' '}
        <button
          type="button"
          onClick={() => run('reset')}
          disabled={busy !== undefined}
          aria-busy={busy === 'reset'}
          class={mcp.circuitBreaker.state === 'closed' ? undefined : 'danger'}
        >
          Reset breaker<span class="sr-only"> of {mcp.name}</span>
        </button>
      </p>
      {failure && (
        <p class="field-error" role="alert">
          {failure}
        </p>
      )}
    </section>
  );
}
