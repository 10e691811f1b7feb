import { queryOptions, useQuery } from '@tanstack/react-query';

import type { CellOrderSearch } from '@/api/wire/CellOrderSearch';
import { api } from '@/lib/api-client';

export type StaffOrderFilters = { status?: string; from?: string; to?: string; q?: string };

/** Every cell is asked at once; the answer names the cells that did not answer. */
export async function searchOrders(filters: StaffOrderFilters, signal?: AbortSignal): Promise<CellOrderSearch> {
  const params: Record<string, string> = { limit: '50' };
  for (const [name, value] of Object.entries(filters)) if (value) params[name] = value;
  const { data } = await api.get<CellOrderSearch>('/admin/api/orders', { params, signal });
  return data;
}

export const staffOrdersQuery = (filters: StaffOrderFilters) =>
  queryOptions({ queryKey: ['admin', 'orders', filters], queryFn: ({ signal }) => searchOrders(filters, signal) });

export function useStaffOrders(filters: StaffOrderFilters) {
  return useQuery(staffOrdersQuery(filters));
}
