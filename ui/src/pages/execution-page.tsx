/**
 * One execution: its graph coloured by step status, the attempts of each
 * step on a time axis, the compensation trail, each step's result or error,
 * and Cancel. While it runs, the page follows its event stream; the
 * document is read again when a stream opens and when it ends, so what the
 * page shows never lags behind the store.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useApi } from '../api/api-context.js';
import { errorMessage, isApiError } from '../api/api-error.js';
import type { ExecutionEvent } from '../api/execution-event.js';
import { followExecution } from '../api/follow-execution.js';
import { type ExecutionDocument, isFinalExecutionStatus } from '../api/types.js';
import { CompensationTrailView } from '../components/compensation-trail-view.js';
import { DagView } from '../components/dag-view.js';
import { ErrorAlert } from '../components/error-alert.js';
import { JsonView } from '../components/json-view.js';
import { StatusBadge } from '../components/status-badge.js';
import { StepTimeline } from '../components/step-timeline.js';
import { useAsync } from '../hooks/use-async.js';
import { useNow } from '../hooks/use-now.js';
import { usePageTitle } from '../hooks/use-page-title.js';
import { applyEvent } from '../model/apply-event.js';
import { formatDuration, formatTime, statusLabel } from '../model/format.js';
import { workflowGraph } from '../model/workflow-graph.js';

/** The execution page. */
export function ExecutionPage({ id }: { id: string }) {
  usePageTitle(`Execution ${id}`);
  const api = useApi();
  const execution = useAsync(() => api.getExecution(id), [id]);
  const doc = execution.value;
  const workflowName = doc?.workflow.name;
  const workflowVersion = doc?.workflow.version;
  // The graph comes from the version the execution ran on; a workflow since unregistered has none.
  const workflow = useAsync(
    () =>
      workflowName
        ? api
            .getWorkflow(workflowName, workflowVersion)
            .catch((e: unknown) => (isApiError(e, 404) ? undefined : Promise.reject(e)))
        : Promise.resolve(undefined),
    [workflowName, workflowVersion],
  );
  const [announced, setAnnounced] = useState<readonly string[]>();
  const live = doc !== undefined && !isFinalExecutionStatus(doc.status);
  const now = useNow(live ? 500 : null);

  useEffect(() => {
    if (!live) return;
    const controller = new AbortController();
    // Events that arrive while the document is read again wait, then apply on top of it.
    let waiting: ExecutionEvent[] | undefined;
    const apply = (event: ExecutionEvent) => execution.set((d) => d && applyEvent(d, event));
    followExecution(
      api,
      id,
      {
        onOpen() {
          waiting = [];
          api.getExecution(id).then(
            (fresh) => {
              const missed = waiting ?? [];
              waiting = undefined;
              if (!controller.signal.aborted) execution.set(() => missed.reduce(applyEvent, fresh));
            },
            () => {
              for (const event of waiting ?? []) apply(event);
              waiting = undefined;
            },
          );
        },
        onEvent(event) {
          if (event.name === 'workflow_compensation_started') setAnnounced(event.payload.steps);
          if (waiting) waiting.push(event);
          else apply(event);
          // The final event ends `live`, and with it this effect: read the stored end now.
          if (event.name === 'workflow_completed') execution.reload();
        },
      },
      controller.signal,
    ).catch(() => !controller.signal.aborted && execution.reload());
    return () => controller.abort();
  }, [api, id, live]);

  const graph = useMemo(
    () => workflowGraph(workflow.value?.definition, doc ? Object.keys(doc.steps) : []),
    [workflow.value, doc ? Object.keys(doc.steps).join('\n') : ''],
  );
  const statuses = useMemo(
    () => Object.fromEntries(Object.entries(doc?.steps ?? {}).map(([name, step]) => [name, step.status])),
    [doc],
  );

  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Execution <span class="mono">{id}</span>
      </h1>
      <ErrorAlert error={execution.error} context="The execution could not be read" />
      {doc && (
        <>
          <Summary doc={doc} now={now} onChange={(d) => execution.set(() => d)} />
          <div class="columns">
            <section aria-labelledby="graph-heading">
              <h2 id="graph-heading">Graph</h2>
              <DagView
                graph={graph}
                statuses={statuses}
                linkSteps
                label={`Steps of ${doc.workflow.name} by status`}
              />
            </section>
            <section aria-labelledby="timeline-heading">
              <h2 id="timeline-heading">Timeline</h2>
              <StepTimeline doc={doc} now={now} />
            </section>
          </div>
          <section aria-labelledby="compensation-heading">
            <h2 id="compensation-heading">Compensation</h2>
            <CompensationTrailView doc={doc} announced={announced} />
          </section>
          <section aria-labelledby="steps-heading">
            <h2 id="steps-heading">Steps</h2>
            {Object.entries(doc.steps).map(([name, step]) => (
              <article
                key={name}
                id={`step-${name}`}
                class="step"
                tabIndex={-1}
                aria-labelledby={`step-${name}-h`}
              >
                <h3 id={`step-${name}-h`}>
                  {name} <StatusBadge status={step.status} />
                </h3>
                <p class="muted">
                  {step.attempts} attempt{step.attempts === 1 ? '' : 's'} · {formatDuration(step.durationMs)}
                  {step.startedAt ? ` · started ${formatTime(step.startedAt)}` : ''}
                </p>
                {'result' in step && <JsonView label="Result" value={step.result} />}
                {step.error && <JsonView label="Error" value={step.error} />}
                {step.compensation && <JsonView label="Compensation" value={step.compensation} />}
              </article>
            ))}
          </section>
          <section aria-labelledby="io-heading">
            <h2 id="io-heading">Input and output</h2>
            <JsonView label="Input" value={doc.input} />
            <JsonView label="Output" value={doc.output} />
          </section>
        </>
      )}
    </>
  );
}

function Summary({
  doc,
  now,
  onChange,
}: {
  doc: ExecutionDocument;
  now: number;
  onChange(doc: ExecutionDocument): void;
}) {
  const running = !isFinalExecutionStatus(doc.status);
  const duration = doc.durationMs ?? (doc.startedAt ? now - Date.parse(doc.startedAt) : null);
  return (
    <>
      <p class="summary">
        <span role="status" class="execution-status" data-status={doc.status}>
          Status: <StatusBadge status={doc.status} />
        </span>{' '}
        · workflow <a href={`/ui/workflows/${encodeURIComponent(doc.workflow.name)}`}>{doc.workflow.name}</a>{' '}
        <span class="muted">v{doc.workflow.version}</span>
      </p>
      <dl class="facts">
        <dt>Created</dt>
        <dd>{formatTime(doc.createdAt)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(doc.startedAt)}</dd>
        <dt>Ended</dt>
        <dd>{formatTime(doc.completedAt)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(duration)}</dd>
        <dt>Owner</dt>
        <dd>{doc.owner ?? '—'}</dd>
      </dl>
      {doc.error && (
        <div class="error-box">
          <strong>{doc.error.code}</strong> {doc.error.message}
        </div>
      )}
      {running && <CancelControl doc={doc} onChange={onChange} />}
      {!running && <p class="sr-only">This execution ended as {statusLabel(doc.status)}.</p>}
    </>
  );
}

/** Cancel asks once more: a cancel rolls back what the execution did. */
function CancelControl({
  doc,
  onChange,
}: {
  doc: ExecutionDocument;
  onChange(doc: ExecutionDocument): void;
}) {
  const api = useApi();
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  // Focus follows the buttons that replace each other, so a keyboard user is not dropped to the page top.
  useEffect(() => {
    if (confirming || asked.current) first.current?.focus();
    asked.current ||= confirming;
  }, [confirming]);
  const cancel = async () => {
    setBusy(true);
    try {
      onChange(await api.cancelExecution(doc.id, 'cancelled from the console'));
      setConfirming(false);
    } catch (error) {
      setFailure(errorMessage(error));
    }
    setBusy(false);
  };
  if (!confirming)
    return (
      <p class="actions">
        <button type="button" class="danger" ref={first} onClick={() => setConfirming(true)}>
          Cancel execution
        </button>
      </p>
    );
  return (
    <fieldset class="confirm">
      <legend>Cancel this execution?</legend>
      <p>Running steps are aborted, and completed ones compensated.</p>
      <button type="button" class="danger" onClick={cancel} disabled={busy} aria-busy={busy}>
        Yes, cancel it
      </button>{' '}
      <button type="button" ref={first} onClick={() => setConfirming(false)} disabled={busy}>
        Keep it running
      </button>
      {failure && (
        <p class="field-error" role="alert">
          {failure}
        </p>
      )}
    </fieldset>
  );
}
