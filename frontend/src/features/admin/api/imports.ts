import { queryOptions, useMutation, useQuery } from '@tanstack/react-query';

import type { ImportJob } from '@/api/wire/ImportJob';
import { api } from '@/lib/api-client';
import { blobText } from '@/lib/blob';

/** The file's own type decides the format: CSV (one line per variant) or a JSON array of products. */
export function importContentType(file: File): string {
  if (file.type === 'text/csv' || file.name.toLowerCase().endsWith('.csv')) return 'text/csv';
  return 'application/json';
}

/** The file is sent as its text (CSV or JSON), typed by its name. */
export async function startImport(file: File): Promise<ImportJob> {
  const text = await blobText(file);
  const { data } = await api.post<ImportJob>('/admin/api/imports', text, { headers: { 'Content-Type': importContentType(file) } });
  return data;
}

export function useStartImport() {
  return useMutation({ mutationFn: startImport });
}

export async function getImport(id: string, signal?: AbortSignal): Promise<ImportJob> {
  const { data } = await api.get<ImportJob>(`/admin/api/imports/${encodeURIComponent(id)}`, { signal });
  return data;
}

/** Polled every second while the job runs. */
export const importQuery = (id: string, intervalMs = 1000) =>
  queryOptions({
    queryKey: ['admin', 'imports', id],
    queryFn: ({ signal }) => getImport(id, signal),
    staleTime: 0,
    refetchInterval: (query) => (query.state.data?.state === 'running' ? intervalMs : false),
  });

export function useImport(id: string | null, intervalMs?: number) {
  return useQuery({ ...importQuery(id ?? '', intervalMs), enabled: id !== null });
}
