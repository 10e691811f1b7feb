import { queryOptions, useQuery } from '@tanstack/react-query';

import type { CategoryList } from '@/api/wire/CategoryList';
import { api } from '@/lib/api-client';

export async function getCategories(signal?: AbortSignal): Promise<CategoryList> {
  const { data } = await api.get<CategoryList>('/api/categories', { signal });
  return data;
}

export const categoriesQuery = () =>
  queryOptions({ queryKey: ['categories'], queryFn: ({ signal }) => getCategories(signal), staleTime: 5 * 60_000 });

export function useCategories() {
  return useQuery(categoriesQuery());
}
