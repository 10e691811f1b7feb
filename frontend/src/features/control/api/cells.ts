import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { CellList } from '@/api/wire/CellList';
import type { DrainView } from '@/api/wire/DrainView';
import type { NewCell } from '@/api/wire/NewCell';
import { api } from '@/lib/api-client';

const cellsKey = ['control', 'cells'] as const;
const drainKey = (id: string) => ['control', 'drain', id] as const;

export async function listCells(signal?: AbortSignal): Promise<CellList> {
  const { data } = await api.get<CellList>('/control/api/cells', { signal });
  return data;
}

/** Health changes on its own, so the list is read again every 5 s. */
export const cellsQuery = (intervalMs = 5000) =>
  queryOptions({ queryKey: cellsKey, queryFn: ({ signal }) => listCells(signal), staleTime: 0, refetchInterval: intervalMs });

export function useCells(intervalMs?: number) {
  return useQuery(cellsQuery(intervalMs));
}

export type CellAction = 'fail' | 'recover' | 'activate' | 'remove';

export async function changeCell(id: string, action: CellAction, reason: string): Promise<CellList> {
  const path = `/control/api/cells/${encodeURIComponent(id)}`;
  switch (action) {
    case 'fail':
    case 'recover':
      return (await api.post<CellList>(`${path}/${action}`, { reason })).data;
    case 'activate':
      return (await api.post<CellList>(`${path}/activate`)).data;
    case 'remove':
      return (await api.delete<CellList>(path)).data;
  }
}

export async function setWeight(id: string, weight: number): Promise<CellList> {
  const { data } = await api.put<CellList>(`/control/api/cells/${encodeURIComponent(id)}/weight`, { weight });
  return data;
}

export async function addCell(body: NewCell): Promise<CellList> {
  const { data } = await api.post<CellList>('/control/api/cells', body);
  return data;
}

function useCellsMutation<V>(fn: (variables: V) => Promise<CellList>) {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: (cells) => queryClient.setQueryData(cellsKey, cells) });
}

export const useChangeCell = () => useCellsMutation(({ id, action, reason }: { id: string; action: CellAction; reason: string }) => changeCell(id, action, reason));
export const useSetWeight = () => useCellsMutation(({ id, weight }: { id: string; weight: number }) => setWeight(id, weight));
export const useAddCell = () => useCellsMutation(addCell);

export async function startDrain(id: string, reason: string): Promise<DrainView> {
  const { data } = await api.post<DrainView>(`/control/api/cells/${encodeURIComponent(id)}/drain`, { reason });
  return data;
}

export async function getDrain(id: string, signal?: AbortSignal): Promise<DrainView> {
  const { data } = await api.get<DrainView>(`/control/api/cells/${encodeURIComponent(id)}/drain`, { signal });
  return data;
}

const RUNNING = new Set(['moving', 'sealed']);

/** Polled while shoppers are still moving. */
export const drainQuery = (id: string, intervalMs = 1000) =>
  queryOptions({
    queryKey: drainKey(id),
    queryFn: ({ signal }) => getDrain(id, signal),
    staleTime: 0,
    refetchInterval: (query) => (query.state.data && RUNNING.has(query.state.data.state) ? intervalMs : false),
  });

export function useDrain(id: string | null, intervalMs?: number) {
  return useQuery({ ...drainQuery(id ?? '', intervalMs), enabled: id !== null });
}

export function useStartDrain() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, reason }: { id: string; reason: string }) => startDrain(id, reason),
    onSuccess: async (view) => {
      queryClient.setQueryData(drainKey(view.cell), view);
      await queryClient.invalidateQueries({ queryKey: cellsKey });
    },
  });
}
