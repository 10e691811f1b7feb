import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { AdvanceOrder } from '@/api/wire/AdvanceOrder';
import type { CancelOrder } from '@/api/wire/CancelOrder';
import type { CellOrderSearch } from '@/api/wire/CellOrderSearch';
import type { OrderDetail } from '@/api/wire/OrderDetail';
import type { RefundOrder } from '@/api/wire/RefundOrder';
import type { Tracking } from '@/api/wire/Tracking';
import { env } from '@/config/env';
import { api } from '@/lib/api-client';
import { idempotencyKey } from '@/lib/format';
import { queryParams } from '@/lib/query-params';

export type StaffOrderFilters = { status?: string; from?: string; to?: string; q?: string };

const searchKey = ['admin', 'orders', 'search'] as const;
const cellOrderKey = (cell: string, id: string) => ['admin', 'orders', 'detail', cell, id] as const;

/** Every cell is asked at once; the answer names the cells that did not answer. */
export async function searchOrders(filters: StaffOrderFilters, signal?: AbortSignal): Promise<CellOrderSearch> {
  const params = { ...queryParams(filters), limit: '50' };
  const { data } = await api.get<CellOrderSearch>('/admin/api/orders', { params, signal });
  return data;
}

export const staffOrdersQuery = (filters: StaffOrderFilters) =>
  queryOptions({ queryKey: [...searchKey, filters], queryFn: ({ signal }) => searchOrders(filters, signal) });

export function useStaffOrders(filters: StaffOrderFilters) {
  return useQuery(staffOrdersQuery(filters));
}

// One order, through the control plane, which hands each call to the cell
// that holds the order and passes the cell's answer (and errors) back as is.

const orderPath = (cell: string, id: string) => `/admin/api/cells/${encodeURIComponent(cell)}/orders/${encodeURIComponent(id)}`;

/**
 * The control plane waits up to 30 s for the cell (a refund waits for the
 * payment provider): a shorter client timeout would give up, and a retry
 * would find the first attempt still running.
 */
const moneyTimeoutMs = () => Math.max(env().requestTimeoutMs, 35_000);

export async function getCellOrder(cell: string, id: string, signal?: AbortSignal): Promise<OrderDetail> {
  const { data } = await api.get<OrderDetail>(orderPath(cell, id), { signal });
  return data;
}

export const cellOrderQuery = (cell: string, id: string) =>
  queryOptions({ queryKey: cellOrderKey(cell, id), queryFn: ({ signal }) => getCellOrder(cell, id, signal), staleTime: 0 });

export function useCellOrder(cell: string, id: string) {
  return useQuery(cellOrderQuery(cell, id));
}

/** The statuses an admin moves an order on to (`AdvanceOrder.status`). */
export type NextStatus = 'processing' | 'shipped' | 'delivered';

export type Advance = { status: NextStatus; reason: string; tracking: Tracking | null };

export async function advanceOrder(cell: string, id: string, advance: Advance): Promise<OrderDetail> {
  const body: AdvanceOrder = advance;
  const { data } = await api.post<OrderDetail>(`${orderPath(cell, id)}/status`, body);
  return data;
}

/** `key` makes a retry of the same refund a replay, never a second refund. */
export async function refundOrder(cell: string, id: string, body: RefundOrder, key: string): Promise<OrderDetail> {
  const { data } = await api.post<OrderDetail>(`${orderPath(cell, id)}/refunds`, body, {
    headers: { 'Idempotency-Key': key },
    timeout: moneyTimeoutMs(),
  });
  return data;
}

/** Cancelling refunds the whole total, so it carries an `Idempotency-Key` too. */
export async function cancelCellOrder(cell: string, id: string, body: CancelOrder, key: string): Promise<OrderDetail> {
  const { data } = await api.post<OrderDetail>(`${orderPath(cell, id)}/cancel`, body, {
    headers: { 'Idempotency-Key': key },
    timeout: moneyTimeoutMs(),
  });
  return data;
}

/** An action on the order: its answer is the order as it now is; the search lists are stale. */
function useOrderAction<V>(cell: string, id: string, action: (variables: V) => Promise<OrderDetail>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: action,
    onSuccess: async (order) => {
      queryClient.setQueryData(cellOrderKey(cell, id), order);
      await queryClient.invalidateQueries({ queryKey: searchKey });
    },
  });
}

export const useAdvanceOrder = (cell: string, id: string) => useOrderAction(cell, id, (advance: Advance) => advanceOrder(cell, id, advance));

// A fresh key per user action (each call of `mutate`); the HTTP client's retries reuse it.
export const useRefundOrder = (cell: string, id: string) =>
  useOrderAction(cell, id, (body: RefundOrder) => refundOrder(cell, id, body, idempotencyKey()));

export const useCancelCellOrder = (cell: string, id: string) =>
  useOrderAction(cell, id, (reason: string) => cancelCellOrder(cell, id, { reason }, idempotencyKey()));
