import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { PromotionInput } from '@/api/wire/PromotionInput';
import type { PromotionList } from '@/api/wire/PromotionList';
import type { PromotionSnapshot } from '@/api/wire/PromotionSnapshot';
import { api } from '@/lib/api-client';

const promotionsKey = ['admin', 'promotions'] as const;

export async function listPromotions(signal?: AbortSignal): Promise<PromotionList> {
  const { data } = await api.get<PromotionList>('/admin/api/promotions', { signal });
  return data;
}

export const promotionsQuery = () => queryOptions({ queryKey: promotionsKey, queryFn: ({ signal }) => listPromotions(signal) });

export function usePromotions() {
  return useQuery(promotionsQuery());
}

export async function savePromotion(id: number | null, body: PromotionInput): Promise<PromotionSnapshot> {
  const { data } =
    id === null
      ? await api.post<PromotionSnapshot>('/admin/api/promotions', body)
      : await api.put<PromotionSnapshot>(`/admin/api/promotions/${id}`, body);
  return data;
}

export function useSavePromotion() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: number | null; body: PromotionInput }) => savePromotion(id, body),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: promotionsKey }),
  });
}
