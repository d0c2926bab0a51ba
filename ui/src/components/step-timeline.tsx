/**
 * Each step's attempts on one time axis, from the execution's start: when
 * each ran, how long, how it ended and why, and the backoff after a failed
 * one (the document's `attemptHistory`, kept up to date by the events). The
 * bars are drawn for the eye; the same facts are written beside them.
 */
import type { AttemptDocument, ExecutionDocument } from '../api/types.js';
import { formatDuration } from '../model/format.js';
import { StatusBadge } from './status-badge.js';

/** Props of {@link StepTimeline}. */
export interface StepTimelineProps {
  doc: ExecutionDocument;
  /** Now, ms since the epoch: where running attempts end. */
  now: number;
}

/** The timeline as a table, one row per step. */
export function StepTimeline({ doc, now }: StepTimelineProps) {
  const names = Object.keys(doc.steps);
  const spans = Object.fromEntries(names.map((name) => [name, doc.steps[name]?.attemptHistory ?? []]));
  const start = Date.parse(doc.startedAt ?? doc.createdAt);
  const endOf = (span: AttemptDocument) => (span.completedAt ? Date.parse(span.completedAt) : now);
  const end = Math.max(
    start + 1,
    doc.completedAt ? Date.parse(doc.completedAt) : now,
    ...Object.values(spans).flatMap((list) => list.map(endOf)),
  );
  const percent = (t: number) => `${(((t - start) / (end - start)) * 100).toFixed(2)}%`;
  return (
    <table class="timeline">
      <caption class="sr-only">Attempts and durations per step</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Attempts</th>
          <th scope="col" class="timeline-track-head">
            0 – {formatDuration(end - start)}
          </th>
        </tr>
      </thead>
      <tbody>
        {names.map((name) => {
          const step = doc.steps[name]!;
          const list = spans[name] ?? [];
          return (
            <tr key={name} data-step={name}>
              <th scope="row">
                {name} <StatusBadge status={step.status} />
              </th>
              <td>
                {list.length === 0 ? (
                  <span class="muted">not run</span>
                ) : (
                  <ol class="attempts">
                    {list.map((span, i) => (
                      <li key={`${span.attempt}-${i}`} class={`outcome-${span.outcome ?? 'running'}`}>
                        {attemptText(span, endOf(span) - Date.parse(span.startedAt))}
                      </li>
                    ))}
                  </ol>
                )}
              </td>
              <td class="timeline-track" aria-hidden="true">
                {list.map((span, i) => {
                  const from = Date.parse(span.startedAt);
                  return (
                    <span
                      key={`${span.attempt}-${i}`}
                      class={`bar outcome-${span.outcome ?? 'running'}`}
                      style={{
                        left: percent(from),
                        width: `max(3px, calc(${percent(endOf(span))} - ${percent(from)}))`,
                      }}
                    />
                  );
                })}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function attemptText(span: AttemptDocument, durationMs: number): string {
  const outcome = (span.outcome ?? 'running').replace('_', ' ');
  const retry = span.retryDelayMs !== undefined ? `, retried after ${formatDuration(span.retryDelayMs)}` : '';
  // The code only: the whole error is in the step's details, and the table stays readable.
  const why = span.error ? ` (${span.error.code})` : '';
  return `#${span.attempt} ${outcome}, ${formatDuration(durationMs)}${retry}${why}`;
}
