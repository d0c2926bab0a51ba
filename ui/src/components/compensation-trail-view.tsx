/** The saga's rollback in the order it ran, each compensation with its outcome, times and result. */
import type { ExecutionDocument } from '../api/types.js';
import { compensationTrail } from '../model/compensation-trail.js';
import { formatDuration, formatTime } from '../model/format.js';
import { JsonView } from './json-view.js';
import { StatusBadge } from './status-badge.js';

const WORDS = {
  waiting: 'waiting',
  running: 'running',
  completed: 'compensated',
  failed: 'compensation failed',
};

/** The trail, or a sentence saying there was none. */
export function CompensationTrailView({
  doc,
  announced,
}: {
  doc: ExecutionDocument;
  announced?: readonly string[] | undefined;
}) {
  const trail = compensationTrail(doc, announced);
  if (trail.length === 0) {
    const rolledBack = ['compensating', 'compensated', 'compensation_failed'].includes(doc.status);
    return <p class="muted">{rolledBack ? 'No step needed compensating.' : 'Nothing was rolled back.'}</p>;
  }
  return (
    <ol class="trail" aria-label="Compensations, in the order they ran">
      {trail.map((entry) => (
        <li key={entry.step} data-step={entry.step} data-status={entry.status}>
          <span class="trail-step">{entry.step}</span>{' '}
          <StatusBadge status={WORDS[entry.status].replaceAll(' ', '_')} />{' '}
          <span class="muted">
            {entry.attempts > 0 ? `${entry.attempts} attempt${entry.attempts === 1 ? '' : 's'}` : ''}
            {entry.startedAt && (
              <>
                {' · started '}
                <time dateTime={entry.startedAt}>{formatTime(entry.startedAt)}</time>
              </>
            )}
            {entry.durationMs !== undefined && ` · ${formatDuration(entry.durationMs)}`}
          </span>
          {entry.result !== undefined && <JsonView label="Result" value={entry.result} />}
          {entry.error && <JsonView label="Error" value={entry.error} />}
        </li>
      ))}
    </ol>
  );
}
