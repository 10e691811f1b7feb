import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';

import type { AuditPage } from '@/api/wire/AuditPage';
import { api } from '@/lib/api-client';
import { queryParams } from '@/lib/query-params';

/** `action` is a prefix (`cell.` or `cell.drain`); `actor` and `subject` match exactly. */
export type AuditFilters = { action?: string; actor?: string; subject?: string };

/** Entries per page (the API takes 1-200). */
export const AUDIT_PAGE_SIZE = 50;

/** One page of the audit log, newest first; `before` is the previous page's `next_cursor`. */
export async function listAudit(filters: AuditFilters, before: string | null, signal?: AbortSignal): Promise<AuditPage> {
  const params = { ...queryParams({ ...filters, before }), limit: String(AUDIT_PAGE_SIZE) };
  const { data } = await api.get<AuditPage>('/control/api/audit', { params, signal });
  return data;
}

export const auditQuery = (filters: AuditFilters) =>
  infiniteQueryOptions({
    queryKey: ['control', 'audit', filters],
    queryFn: ({ pageParam, signal }) => listAudit(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

export function useAuditLog(filters: AuditFilters) {
  return useInfiniteQuery(auditQuery(filters));
}
