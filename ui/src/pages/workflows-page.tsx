/** The registered workflows (the current version of each name). */
import { useApi } from '../api/api-context.js';
import { ErrorAlert } from '../components/error-alert.js';
import { useAsync } from '../hooks/use-async.js';
import { usePageTitle } from '../hooks/use-page-title.js';
import { formatTime } from '../model/format.js';

/** The workflows page. */
export function WorkflowsPage() {
  usePageTitle('Workflows');
  const api = useApi();
  const workflows = useAsync(() => api.listWorkflows(), []);
  const items = workflows.value?.items ?? [];
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Workflows
      </h1>
      <ErrorAlert error={workflows.error} context="Workflows could not be read" />
      {workflows.value && items.length === 0 && (
        <p class="muted">
          No workflow is registered. Put definitions in <code>WORKFLOWS_DIR</code> or POST them to{' '}
          <code>/workflows</code>.
        </p>
      )}
      {items.length > 0 && (
        <div class="table-scroll">
          <table class="list">
            <caption class="sr-only">Registered workflows</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Version</th>
                <th scope="col">Steps</th>
                <th scope="col" class="wide-only">
                  Description
                </th>
                <th scope="col" class="wide-only">
                  Registered
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((w) => (
                <tr key={w.name} data-workflow={w.name}>
                  <td>
                    <a href={`/ui/workflows/${encodeURIComponent(w.name)}`}>{w.name}</a>
                  </td>
                  <td>{w.version}</td>
                  <td>{w.steps}</td>
                  <td class="wide-only">{w.description ?? ''}</td>
                  <td class="wide-only">
                    <time dateTime={w.registeredAt}>{formatTime(w.registeredAt)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
