import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { Restock } from '@/api/wire/Restock';
import type { StockAdjustment } from '@/api/wire/StockAdjustment';
import type { StockLedger } from '@/api/wire/StockLedger';
import { api } from '@/lib/api-client';

const stockKey = (sku: string) => ['admin', 'stock', sku] as const;

export async function getStock(sku: string, signal?: AbortSignal): Promise<StockLedger> {
  const { data } = await api.get<StockLedger>(`/admin/api/stock/${encodeURIComponent(sku)}`, { signal });
  return data;
}

export const stockQuery = (sku: string) => queryOptions({ queryKey: stockKey(sku), queryFn: ({ signal }) => getStock(sku, signal), staleTime: 0 });

export function useStock(sku: string) {
  return useQuery(stockQuery(sku));
}

export async function restock(sku: string, body: Restock): Promise<StockLedger> {
  const { data } = await api.post<StockLedger>(`/admin/api/stock/${encodeURIComponent(sku)}/restock`, body);
  return data;
}

export function useRestock(sku: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (quantity: number) => restock(sku, { quantity }),
    onSuccess: (ledger) => queryClient.setQueryData(stockKey(sku), ledger),
  });
}

/** A count correction: units found (+) or lost (−, from unallocated stock only), with why. */
export async function adjustStock(sku: string, body: StockAdjustment): Promise<StockLedger> {
  const { data } = await api.post<StockLedger>(`/admin/api/stock/${encodeURIComponent(sku)}/adjust`, body);
  return data;
}

export function useAdjustStock(sku: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: StockAdjustment) => adjustStock(sku, body),
    onSuccess: (ledger) => queryClient.setQueryData(stockKey(sku), ledger),
  });
}
