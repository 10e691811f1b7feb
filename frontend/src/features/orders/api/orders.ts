import { infiniteQueryOptions, queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { CancelOrder } from '@/api/wire/CancelOrder';
import type { OrderDetail } from '@/api/wire/OrderDetail';
import type { OrderPage } from '@/api/wire/OrderPage';
import { api } from '@/lib/api-client';
import { sharedKeys } from '@/lib/query-keys';
import { queryParams } from '@/lib/query-params';

export type OrderFilters = { status?: string; from?: string; to?: string; q?: string };

function paramsOf(filters: OrderFilters, cursor: string | null): Record<string, string> {
  return { limit: '20', ...queryParams({ ...filters, cursor }) };
}

export async function listOrders(filters: OrderFilters, cursor: string | null, signal?: AbortSignal): Promise<OrderPage> {
  const { data } = await api.get<OrderPage>('/api/orders', { params: paramsOf(filters, cursor), signal });
  return data;
}

export const ordersQuery = (filters: OrderFilters) =>
  infiniteQueryOptions({
    queryKey: [...sharedKeys.orders, 'list', filters],
    queryFn: ({ pageParam, signal }) => listOrders(filters, pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

export function useOrders(filters: OrderFilters) {
  return useInfiniteQuery(ordersQuery(filters));
}

export async function getOrder(id: string, signal?: AbortSignal): Promise<OrderDetail> {
  const { data } = await api.get<OrderDetail>(`/api/orders/${encodeURIComponent(id)}`, { signal });
  return data;
}

const ACTIVE = new Set(['pending', 'confirmed', 'processing', 'shipped']);

/** An order still on its way is read again every 10 s (the simulated carrier moves it within a minute). */
export const orderQuery = (id: string) =>
  queryOptions({
    queryKey: [...sharedKeys.orders, 'detail', id],
    queryFn: ({ signal }) => getOrder(id, signal),
    refetchInterval: (query) => (query.state.data && ACTIVE.has(query.state.data.status) ? 10_000 : false),
  });

export function useOrder(id: string) {
  return useQuery(orderQuery(id));
}

export async function cancelOrder(id: string, reason?: string): Promise<OrderDetail> {
  const body: CancelOrder = { reason: reason ?? null };
  const { data } = await api.post<OrderDetail>(`/api/orders/${encodeURIComponent(id)}/cancel`, body);
  return data;
}

export function useCancelOrder(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (reason?: string) => cancelOrder(id, reason),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sharedKeys.orders }),
  });
}

/** The invoice PDF, fetched with the access token and handed to the browser as a download. */
export async function downloadInvoice(id: string, fileName: string): Promise<void> {
  const { data } = await api.get<Blob>(`/api/orders/${encodeURIComponent(id)}/invoice`, {
    responseType: 'blob',
    headers: { Accept: 'application/pdf' },
  });
  const url = URL.createObjectURL(data);
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    document.body.appendChild(link);
    link.click();
    link.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

export function useDownloadInvoice(id: string, fileName: string) {
  return useMutation({ mutationFn: () => downloadInvoice(id, fileName) });
}
