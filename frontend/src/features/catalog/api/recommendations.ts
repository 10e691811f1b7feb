import { queryOptions, useQuery } from '@tanstack/react-query';

import type { Recommendations } from '@/api/wire/Recommendations';
import { api } from '@/lib/api-client';

export type RecommendationList =
  | { kind: 'trending' }
  | { kind: 'for_you' }
  | { kind: 'similar'; slug: string }
  | { kind: 'bought_together'; slug: string };

function pathOf(list: RecommendationList): string {
  switch (list.kind) {
    case 'trending':
      return '/api/recommendations/trending';
    case 'for_you':
      return '/api/recommendations/for-you';
    case 'similar':
      return `/api/products/${encodeURIComponent(list.slug)}/similar`;
    case 'bought_together':
      return `/api/products/${encodeURIComponent(list.slug)}/bought-together`;
  }
}

export async function getRecommendations(list: RecommendationList, limit: number, signal?: AbortSignal): Promise<Recommendations> {
  const { data } = await api.get<Recommendations>(pathOf(list), { params: { limit }, signal });
  return data;
}

export const recommendationsQuery = (list: RecommendationList, limit = 8) =>
  queryOptions({
    queryKey: ['recommendations', list, limit],
    queryFn: ({ signal }) => getRecommendations(list, limit, signal),
  });

export function useRecommendations(list: RecommendationList, limit = 8) {
  return useQuery(recommendationsQuery(list, limit));
}
