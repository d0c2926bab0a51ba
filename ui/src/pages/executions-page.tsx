/**
 * Executions, newest first, filtered by status and workflow (kept in the
 * URL, so a filtered view can be bookmarked). The server's event stream
 * (`GET /events`) moves the rows along and says when one starts, which
 * reads the list again; it is also read every 15 s, for executions other
 * replicas run (their events are on their own streams).
 */
import { useRef, useState } from 'preact/hooks';
import { useApi } from '../api/api-context.js';
import { EXECUTION_STATUSES, type ExecutionDocument, type ExecutionStatus } from '../api/types.js';
import { ErrorAlert } from '../components/error-alert.js';
import { StatusBadge } from '../components/status-badge.js';
import { useAsync } from '../hooks/use-async.js';
import { useInterval } from '../hooks/use-interval.js';
import { usePageTitle } from '../hooks/use-page-title.js';
import { useServerEvents } from '../hooks/use-server-events.js';
import { applyEvent } from '../model/apply-event.js';
import { formatDuration, formatTime, statusLabel } from '../model/format.js';
import { navigate } from '../router.js';

const PAGE_SIZE = 50;
/** `GET /executions` answers at most this many at once. */
const MAX_LIMIT = 500;
const REFRESH_MS = 15_000;
/** New executions read the list again at most this often, ms. */
const RELOAD_GAP_MS = 500;

/** The executions page. */
export function ExecutionsPage({ search }: { search: URLSearchParams }) {
  usePageTitle('Executions');
  const api = useApi();
  const status = (search.get('status') ?? '') as ExecutionStatus | '';
  const workflow = search.get('workflow') ?? '';
  const [limit, setLimit] = useState(PAGE_SIZE);
  const list = useAsync(
    () => api.listExecutions({ status: status || undefined, workflow: workflow || undefined, limit }),
    [status, workflow, limit],
  );
  const workflows = useAsync(() => api.listWorkflows(), []);
  useInterval(list.reload, REFRESH_MS);

  const items = list.value?.items ?? [];
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const reloadSoon = () => {
    reloadTimer.current ??= setTimeout(() => {
      reloadTimer.current = undefined;
      list.reload();
    }, RELOAD_GAP_MS);
  };
  useServerEvents(
    { workflow: workflow || undefined, topics: ['executions'] },
    {
      onOpen: list.reload,
      onExecutionEvent(event) {
        const id = event.payload.executionId;
        const shown = list.value?.items.some((e) => e.id === id) ?? false;
        // A new execution: where it goes (and whether it matches) is the list's to say.
        if (!shown && event.name === 'workflow_started') return reloadSoon();
        if (!shown) return;
        list.set(
          (page) =>
            page && { ...page, items: page.items.map((e) => (e.id === id ? applyEvent(e, event) : e)) },
        );
        // Filtered by status, an execution that ends leaves the list.
        if (status && event.name === 'workflow_completed') reloadSoon();
      },
    },
  );

  const filter = (name: 'status' | 'workflow', value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    const query = next.toString();
    navigate(`/ui/executions${query ? `?${query}` : ''}`, { replace: true });
  };
  const names = [
    ...new Set([...(workflows.value?.items ?? []).map((w) => w.name), workflow].filter(Boolean)),
  ];

  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Executions
      </h1>
      <form class="filters" aria-label="Filter executions" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          name="status"
          label="Status"
          value={status}
          options={EXECUTION_STATUSES.map((s) => [s, statusLabel(s)])}
          onChange={filter}
        />
        <FilterSelect
          name="workflow"
          label="Workflow"
          value={workflow}
          options={names.map((name) => [name, name])}
          onChange={filter}
        />
      </form>
      <ErrorAlert error={list.error} context="Executions could not be read" />
      {list.value && items.length === 0 && <p class="muted">No executions match.</p>}
      {items.length > 0 && (
        <div class="table-scroll">
          <table class="list">
            <caption class="sr-only">
              Executions, newest first{status ? `, ${statusLabel(status)}` : ''}
              {workflow ? ` of ${workflow}` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Execution</th>
                <th scope="col">Workflow</th>
                <th scope="col">Status</th>
                <th scope="col">Steps done</th>
                <th scope="col" class="wide-only">
                  Created
                </th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {items.map((execution) => (
                <ExecutionRow key={execution.id} execution={execution} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.value?.nextCursor && limit < MAX_LIMIT && (
        <button type="button" onClick={() => setLimit((l) => Math.min(l + PAGE_SIZE, MAX_LIMIT))}>
          Show more
        </button>
      )}
    </>
  );
}

/** One filter of the list: "any", then each value (`[value, text]`). */
function FilterSelect({
  name,
  label,
  value,
  options,
  onChange,
}: {
  name: 'status' | 'workflow';
  label: string;
  value: string;
  options: readonly (readonly [string, string])[];
  onChange(name: 'status' | 'workflow', value: string): void;
}) {
  return (
    <div class="field">
      <label for={`filter-${name}`}>{label}</label>
      <select
        id={`filter-${name}`}
        value={value}
        onChange={(e) => onChange(name, (e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="">any</option>
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

function ExecutionRow({ execution }: { execution: ExecutionDocument }) {
  const steps = Object.values(execution.steps);
  const done = steps.filter((s) => s.status === 'completed').length;
  return (
    <tr data-execution={execution.id} data-status={execution.status}>
      <td>
        <a href={`/ui/executions/${encodeURIComponent(execution.id)}`} class="mono">
          {execution.id}
        </a>
      </td>
      <td>
        {execution.workflow.name} <span class="muted">v{execution.workflow.version}</span>
      </td>
      <td>
        <StatusBadge status={execution.status} />
      </td>
      <td>
        {done}/{steps.length}
      </td>
      <td class="wide-only">
        <time dateTime={execution.createdAt}>{formatTime(execution.createdAt)}</time>
      </td>
      <td>{formatDuration(execution.durationMs)}</td>
    </tr>
  );
}
