/** One workflow: its definition as YAML beside its graph, and a Run form from its input schema. */
import { useMemo } from 'preact/hooks';
import { stringify } from 'yaml';
import { useApi } from '../api/api-context.js';
import { DagView } from '../components/dag-view.js';
import { ErrorAlert } from '../components/error-alert.js';
import { RunForm } from '../components/run-form.js';
import { useAsync } from '../hooks/use-async.js';
import { usePageTitle } from '../hooks/use-page-title.js';
import { formatTime } from '../model/format.js';
import { workflowGraph } from '../model/workflow-graph.js';

/** The workflow page. */
export function WorkflowPage({ name }: { name: string }) {
  usePageTitle(`Workflow ${name}`);
  const api = useApi();
  const workflow = useAsync(() => api.getWorkflow(name), [name]);
  const detail = workflow.value;
  const yaml = useMemo(() => (detail ? stringify(detail.definition, { lineWidth: 0 }) : ''), [detail]);
  const graph = useMemo(() => workflowGraph(detail?.definition), [detail]);
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Workflow {name}
      </h1>
      <ErrorAlert error={workflow.error} context="The workflow could not be read" />
      {detail && (
        <>
          <p class="summary">
            Version {detail.version} · {detail.steps} step{detail.steps === 1 ? '' : 's'} · registered{' '}
            {formatTime(detail.registeredAt)} ·{' '}
            <a href={`/ui/executions?workflow=${encodeURIComponent(name)}`}>its executions</a>
          </p>
          {detail.description && <p>{detail.description}</p>}
          <div class="columns">
            <section aria-labelledby="definition-heading">
              <h2 id="definition-heading">Definition</h2>
              {/* Chromium and Firefox let the keyboard focus and scroll an overflowing box by themselves. */}
              <pre class="yaml">
                <code>{yaml}</code>
              </pre>
            </section>
            <section aria-labelledby="graph-heading">
              <h2 id="graph-heading">Graph</h2>
              <DagView graph={graph} label={`Steps of ${name} and what each waits for`} />
            </section>
          </div>
          <section aria-labelledby="run-heading">
            <h2 id="run-heading">Run</h2>
            <RunForm definition={detail.definition} />
          </section>
        </>
      )}
    </>
  );
}
