import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import type { SearchMode } from '@/api/wire/SearchMode';
import type { SearchResults } from '@/api/wire/SearchResults';
import { api } from '@/lib/api-client';

/** What `GET /api/search` takes; list facets are sent comma-separated. */
export type SearchFilters = {
  q: string;
  /** How to rank; only sent with words (the cell refuses `semantic` and `hybrid` without). */
  mode: SearchMode;
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

export const SEARCH_MODES: readonly SearchMode[] = ['text', 'semantic', 'hybrid'];

export function isSearchMode(value: string | null | undefined): value is SearchMode {
  return SEARCH_MODES.some((mode) => mode === value);
}

/**
 * Whether `q` holds anything the cell searches for: it turns control
 * characters into spaces and trims, and answers 400 to a semantic or hybrid
 * search left with nothing.
 */
export function hasWords(q: string): boolean {
  return /[^\s\p{Cc}]/u.test(q);
}

export function searchParamsOf(filters: SearchFilters): Record<string, string> {
  const params: Record<string, string> = {};
  if (filters.q) params.q = filters.q;
  if (filters.mode !== 'text' && hasWords(filters.q)) params.mode = filters.mode;
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
