/**
 * Admin actions of the Jobs page: on every job the current filter selects (`jobBulk`, counted
 * first, confirmed when it cannot be undone), and on the jobs ticked in the lists (the single
 * job methods, which take several ids).
 */
import { foreverDate } from '../../../shared/constants.ts';
import { useState } from 'preact/hooks';
import { LabelledSelect } from '../components/labelled-select.tsx';
import { DdpError, type DdpConnection } from '../ddp/ddp-connection.ts';

const actions = ['pause', 'resume', 'ready', 'cancel', 'restart', 'remove'] as const;
type Action = (typeof actions)[number];
/** Actions that cannot simply be taken back (only pause and resume undo each other): asked for with the number of jobs first. */
const destructive = new Set<string>(['ready', 'cancel', 'restart', 'remove']);

const refusal = (action: string, error: unknown) =>
  error instanceof DdpError ? `${action} refused: ${error.reason ?? error.error}` : `${action} failed.`;

const plural = (count: number) => `${count} job${count === 1 ? '' : 's'}`;

/** The selection `jobBulk` takes, and words describing it. */
export interface FilterScope {
  selection: Record<string, unknown>;
  description: string;
}

export function BulkAction({ connection, root, scope }: { connection: DdpConnection; root: string; scope: () => FilterScope }) {
  const [action, setAction] = useState<Action>('pause');
  const [outcome, setOutcome] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const apply = async () => {
    // Relative time ranges are read at the moment of the action.
    const { selection, description } = scope();
    setBusy(true);
    try {
      const { matched } = await connection.call<{ matched: number }>(`${root}_jobBulk`, action, selection, { dryRun: true });
      if (matched === 0) {
        setOutcome(`${action}: no job of ${description} can be changed so.`);
        return;
      }
      if (destructive.has(action) && !confirm(`${action} ${plural(matched)} (${description})? This cannot be undone.`)) {
        setOutcome(undefined);
        return;
      }
      setOutcome(`${action}: working on ${plural(matched)}…`);
      const { changed } = await connection.call<{ changed: number }>(`${root}_jobBulk`, action, selection);
      setOutcome(`${action}: ${plural(changed)} changed.`);
    } catch (error) {
      setOutcome(refusal(action, error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <ActionForm
      name="Action on every job of this filter"
      label="Every job of this filter:"
      action={action}
      onAction={setAction}
      button={`Apply to ${scope().description}`}
      disabled={busy}
      outcome={outcome}
      onSubmit={apply}
    />
  );
}

/** The single-job method of each action and its options; each takes a list of ids. */
const methods: Record<Action, [string, ...unknown[]]> = {
  pause: ['jobPause'],
  resume: ['jobResume'],
  // Ready now: delays and pending dependencies dropped, as the bulk action does.
  ready: ['jobReady', { time: foreverDate, force: true }],
  cancel: ['jobCancel', {}],
  restart: ['jobRestart', {}],
  remove: ['jobRemove'],
};

export function SelectionAction({ connection, root, ids, onDone }: { connection: DdpConnection; root: string; ids: readonly string[]; onDone: () => void }) {
  const [action, setAction] = useState<Action>('pause');
  const [outcome, setOutcome] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const apply = async () => {
    if (destructive.has(action) && !confirm(`${action} the ${plural(ids.length)} selected? This cannot be undone.`)) return;
    const [method, ...options] = methods[action];
    setBusy(true);
    try {
      const changed = await connection.call<boolean>(`${root}_${method}`, [...ids], ...options);
      setOutcome(changed ? `${action}: done on the selected jobs it applies to.` : `${action}: none of the selected jobs can be changed so.`);
      onDone();
    } catch (error) {
      setOutcome(refusal(action, error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <ActionForm
      name="Action on the selected jobs"
      label={`The ${plural(ids.length)} selected:`}
      action={action}
      onAction={setAction}
      button="Apply to the selection"
      disabled={busy || ids.length === 0}
      outcome={outcome}
      onSubmit={apply}
    />
  );
}

/** An action chooser, its button, and what became of the last action, read out when it changes. */
function ActionForm(props: {
  name: string;
  label: string;
  action: Action;
  onAction: (action: Action) => void;
  button: string;
  disabled: boolean;
  outcome: string | undefined;
  onSubmit: () => Promise<void>;
}) {
  return (
    <form
      class="bulk"
      aria-label={props.name}
      onSubmit={(event) => {
        event.preventDefault();
        void props.onSubmit();
      }}
    >
      <LabelledSelect label={props.label} value={props.action} options={actions} onChange={(value) => props.onAction(value as Action)} />
      <button type="submit" disabled={props.disabled}>
        {props.button}
      </button>
      <p role="status" aria-live="polite">
        {props.outcome}
      </p>
    </form>
  );
}
