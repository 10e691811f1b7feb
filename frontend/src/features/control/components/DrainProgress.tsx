import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { Spinner } from '@/components/ui/Spinner';
import { formatDate } from '@/lib/format';

import { useDrain } from '../api/cells';

export function DrainProgress({ cellId, pollMs }: { cellId: string; pollMs?: number }) {
  const drain = useDrain(cellId, pollMs);
  if (drain.isPending) return <Spinner label="Reading the drain's progress…" />;
  if (drain.isError) return <ErrorMessage error={drain.error} title="Could not read the drain's progress" />;
  const view = drain.data;
  return (
    <section aria-label={`Drain of ${cellId}`} className="rounded border border-stone-200 bg-white p-4 text-sm">
      <h3 className="font-semibold">
        Drain of {view.cell}: <span aria-live="polite">{view.state}</span>
      </h3>
      <dl className="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 sm:grid-cols-4">
        <dt className="text-stone-700">Shoppers moved</dt>
        <dd>{view.shoppers_moved}</dd>
        <dt className="text-stone-700">In progress</dt>
        <dd>{view.shoppers_in_progress}</dd>
        <dt className="text-stone-700">In conflict</dt>
        <dd>{view.shoppers_in_conflict}</dd>
        <dt className="text-stone-700">Passes</dt>
        <dd>{view.passes}</dd>
        <dt className="text-stone-700">Started</dt>
        <dd>{formatDate(view.started_at)}</dd>
        <dt className="text-stone-700">Finished</dt>
        <dd>{view.finished_at ? formatDate(view.finished_at) : '—'}</dd>
      </dl>
      {view.last_error ? <p className="mt-2 text-red-800">Last error: {view.last_error}</p> : null}
      {view.shoppers_in_conflict > 0 ? (
        <p className="mt-2 text-amber-800">Shoppers in conflict stay on the old cell for an operator to look at.</p>
      ) : null}
    </section>
  );
}
