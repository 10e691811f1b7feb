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

/** POSTs a change of `sku`'s ledger (`restock`, `adjust`); the answer is the ledger after it. */
async function changeLedger(sku: string, change: 'restock' | 'adjust', body: Restock | StockAdjustment): Promise<StockLedger> {
  const { data } = await api.post<StockLedger>(`/admin/api/stock/${encodeURIComponent(sku)}/${change}`, body);
  return data;
}

/** A ledger change whose answer replaces the cached ledger. */
function useLedgerChange<B extends Restock | StockAdjustment>(sku: string, change: 'restock' | 'adjust') {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: B) => changeLedger(sku, change, body),
    onSuccess: (ledger) => queryClient.setQueryData(stockKey(sku), ledger),
  });
}

/** Units arrived: they join the unallocated stock. */
export function useRestock(sku: string) {
  return useLedgerChange<Restock>(sku, 'restock');
}

/** A count correction: units found (+) or lost (−, from unallocated stock only), with why. */
export function useAdjustStock(sku: string) {
  return useLedgerChange<StockAdjustment>(sku, 'adjust');
}
