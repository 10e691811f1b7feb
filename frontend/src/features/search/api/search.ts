import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import type { SearchResults } from '@/api/wire/SearchResults';
import { api } from '@/lib/api-client';

/** What `GET /api/search` takes; list facets are sent comma-separated. */
export type SearchFilters = {
  q: string;
  brand: string[];
  category: string[];
  size: string[];
  colour: string[];
  min_price?: number | undefined;
  max_price?: number | undefined;
  rating_min?: number | undefined;
  in_stock: boolean;
  sort?: string | undefined;
  page: number;
  limit: number;
};

export function searchParamsOf(filters: SearchFilters): Record<string, string> {
  const params: Record<string, string> = {};
  if (filters.q) params.q = filters.q;
  for (const facet of ['brand', 'category', 'size', 'colour'] as const) {
    if (filters[facet].length > 0) params[facet] = filters[facet].join(',');
  }
  if (filters.min_price !== undefined) params.min_price = String(filters.min_price);
  if (filters.max_price !== undefined) params.max_price = String(filters.max_price);
  if (filters.rating_min !== undefined) params.rating_min = String(filters.rating_min);
  if (filters.in_stock) params.in_stock = 'true';
  if (filters.sort) params.sort = filters.sort;
  if (filters.page > 1) params.page = String(filters.page);
  params.limit = String(filters.limit);
  return params;
}

export async function searchProducts(filters: SearchFilters, signal?: AbortSignal): Promise<SearchResults> {
  const { data } = await api.get<SearchResults>('/api/search', { params: searchParamsOf(filters), signal });
  return data;
}

export const searchQuery = (filters: SearchFilters) =>
  queryOptions({
    queryKey: ['search', searchParamsOf(filters)],
    queryFn: ({ signal }) => searchProducts(filters, signal),
    placeholderData: keepPreviousData,
  });

export function useSearch(filters: SearchFilters) {
  return useQuery(searchQuery(filters));
}
