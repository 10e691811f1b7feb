import { queryOptions, useQuery } from '@tanstack/react-query';

import type { Suggestions } from '@/api/wire/Suggestions';
import { api } from '@/lib/api-client';

export async function fetchSuggestions(q: string, signal?: AbortSignal): Promise<Suggestions> {
  const { data } = await api.get<Suggestions>('/api/search/suggest', { params: { q, limit: 8 }, signal });
  return data;
}

export const suggestQuery = (q: string) =>
  queryOptions({
    queryKey: ['search', 'suggest', q],
    queryFn: ({ signal }) => fetchSuggestions(q, signal),
    enabled: q.trim().length > 0,
    staleTime: 60_000,
  });

export function useSuggestions(q: string) {
  return useQuery(suggestQuery(q.trim()));
}
