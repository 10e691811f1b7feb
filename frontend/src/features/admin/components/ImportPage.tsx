import { useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';

import { useImport, useStartImport } from '../api/imports';

export function ImportPage({ pollMs }: { pollMs?: number }) {
  const start = useStartImport();
  const [file, setFile] = useState<File | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useImport(jobId, pollMs);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) start.mutate(file, { onSuccess: (started) => setJobId(started.id) });
  };
  const current = job.data ?? start.data;
  const percent = current && current.total > 0 ? Math.round((current.processed / current.total) * 100) : 0;
  return (
    <section aria-labelledby="import-title" className="space-y-4">
      <h2 id="import-title" className="text-xl font-semibold">
        Bulk import
      </h2>
      <p className="text-sm text-stone-700">
        A CSV file (one line per variant: slug, title, description, brand, category, tags, image_url, image_alt, published, sku, size, colour, price_minor,
        currency, compare_at_minor, stock) or a JSON array of products. Products that already hold what a row says are left alone.
      </p>
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="Import products">
        <div>
          <label htmlFor="import-file" className="block text-sm font-medium">
            File
          </label>
          <input id="import-file" type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} className="mt-1 text-sm" />
        </div>
        <Button type="submit" disabled={!file} busy={start.isPending}>
          Start import
        </Button>
      </form>
      {start.isError ? <ErrorMessage error={start.error} title="The import did not start" /> : null}
      {job.isError ? <ErrorMessage error={job.error} title="Could not read the import's progress" /> : null}
      {current ? (
        <div className="space-y-3 rounded border border-stone-200 bg-white p-4 text-sm">
          <p>
            Import {current.id}: <strong>{current.state}</strong>
          </p>
          <progress className="h-3 w-full" max={100} value={percent} aria-label="Import progress">
            {percent}%
          </progress>
          <p aria-live="polite">
            {current.processed} of {current.total} products · {current.created} created · {current.updated} updated · {current.unchanged} unchanged ·{' '}
            {current.failed} failed
          </p>
          {current.errors.length > 0 ? (
            <table className="w-full text-left text-xs">
              <caption className="text-left font-medium">Rejected rows</caption>
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Slug</th>
                  <th scope="col">Code</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {current.errors.map((error) => (
                  <tr key={`${error.row}-${error.code}`}>
                    <td>{error.row}</td>
                    <td>{error.slug ?? '—'}</td>
                    <td>{error.code}</td>
                    <td>{error.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
