import type { AuditEntry } from '@/api/wire/AuditEntry';
import type { JsonValue } from '@/api/wire/serde_json/JsonValue';
import { DataTable, type Column } from '@/components/DataTable';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextField } from '@/components/ui/Field';
import { LoadMore } from '@/components/ui/LoadMore';
import { Spinner } from '@/components/ui/Spinner';
import { useFilterForm } from '@/lib/filter-form';
import { formatDate, humanise } from '@/lib/format';

import { useAuditLog, type AuditFilters } from '../api/audit';

/** Longest nested value shown inline; the whole of it is in the tooltip. */
const INLINE_CHARS = 80;

function inline(value: JsonValue): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // A list of plain values reads as one ("title, variants"); anything deeper stays JSON.
  if (Array.isArray(value) && value.every((item) => item === null || typeof item !== 'object')) return value.map(inline).join(', ');
  return JSON.stringify(value);
}

function Shortened({ text }: { text: string }) {
  if (text.length <= INLINE_CHARS) return <>{text}</>;
  return <span title={text}>{`${text.slice(0, INLINE_CHARS - 1)}…`}</span>;
}

/** An entry's `detail`, readable at a glance: `Reason: …  Old weight: 100`, or the value itself. */
function AuditDetail({ detail }: { detail: JsonValue }) {
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    return <Shortened text={inline(detail)} />;
  }
  const fields = Object.entries(detail);
  if (fields.length === 0) return <>—</>;
  return (
    <dl className="flex flex-wrap gap-x-3 gap-y-0.5">
      {fields.map(([key, value]) => (
        <div key={key} className="break-words">
          <dt className="inline text-stone-700">{humanise(key)}:</dt> <dd className="inline"><Shortened text={inline(value)} /></dd>
        </div>
      ))}
    </dl>
  );
}

const COLUMNS: Column<AuditEntry>[] = [
  { header: 'Time', cell: (entry) => <time dateTime={entry.at}>{formatDate(entry.at)}</time>, className: 'whitespace-nowrap p-2' },
  { header: 'Actor', cell: (entry) => entry.actor, className: 'whitespace-nowrap p-2' },
  { header: 'Action', cell: (entry) => <code>{entry.action}</code>, rowHeader: true, className: 'p-2 font-normal' },
  { header: 'Subject', cell: (entry) => entry.subject, className: 'whitespace-nowrap p-2' },
  {
    header: 'Detail',
    cell: (entry) => (
      <>
        <AuditDetail detail={entry.detail} />
        {entry.request_id ? <span className="block text-xs text-stone-700">Request {entry.request_id}</span> : null}
      </>
    ),
    className: 'min-w-64 p-2',
  },
];

/** Staff actions, newest first, for admins and SREs: who did what to what, when, and why. */
export function AuditLogPage() {
  const { draft, setDraft, filters, apply, clear } = useFilterForm<AuditFilters>({});
  const query = useAuditLog(filters);
  const entries = query.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Object.values(filters).some((value) => value?.trim());

  return (
    <section aria-labelledby="audit-title" className="space-y-4">
      <h2 id="audit-title" className="text-xl font-semibold">
        Audit log
      </h2>
      <form onSubmit={apply} aria-label="Filter the audit log" className="grid gap-3 sm:grid-cols-2 sm:items-end lg:grid-cols-4">
        <TextField
          label="Action starts with"
          placeholder="cell.drain"
          value={draft.action ?? ''}
          onChange={(e) => setDraft({ ...draft, action: e.target.value })}
        />
        <TextField label="Actor" placeholder="user:42" value={draft.actor ?? ''} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} />
        <TextField label="Subject" placeholder="cell-1" value={draft.subject ?? ''} onChange={(e) => setDraft({ ...draft, subject: e.target.value })} />
        <div className="flex gap-2">
          <Button type="submit" variant="secondary">
            Filter
          </Button>
          <Button variant="ghost" onClick={clear}>
            Clear filters
          </Button>
        </div>
      </form>
      {query.isPending ? <Spinner label="Loading the audit log…" /> : null}
      {query.isError && !query.isFetchNextPageError ? (
        <ErrorMessage error={query.error} title="Could not load the audit log" onRetry={() => void query.refetch()} />
      ) : null}
      {query.isSuccess && entries.length === 0 ? (
        <p className="text-stone-700">{filtered ? 'No entries match these filters.' : 'Nothing has been recorded yet.'}</p>
      ) : null}
      {entries.length > 0 ? <DataTable caption="Audit log entries, newest first" columns={COLUMNS} rows={entries} rowKey={(entry) => entry.id} /> : null}
      {query.isFetchNextPageError ? (
        <ErrorMessage error={query.error} title="Could not load older entries" onRetry={() => void query.fetchNextPage()} />
      ) : null}
      {query.isFetchNextPageError ? null : <LoadMore query={query}>Load older</LoadMore>}
    </section>
  );
}
