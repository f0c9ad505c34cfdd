import type { JobStatus } from '../../../shared/constants.ts';
import { statusSymbols } from '../format.ts';

/** A status as a word with a symbol (colour is a help, never the only sign). */
export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <span class={`status status-${status}`}>
      <span aria-hidden="true">{statusSymbols[status]}</span> {status}
    </span>
  );
}
