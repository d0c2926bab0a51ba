import { statusLabel } from '../model/format.js';

/** A status as a coloured label: the colour helps, the word says it (colour alone is not enough). */
export function StatusBadge({ status, kind = 'status' }: { status: string; kind?: string }) {
  return (
    <span class={`badge status-${status}`} data-kind={kind}>
      {statusLabel(status)}
    </span>
  );
}
