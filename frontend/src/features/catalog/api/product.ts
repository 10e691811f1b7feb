import { queryOptions, useQuery } from '@tanstack/react-query';

import type { ProductDetail } from '@/api/wire/ProductDetail';
import { api } from '@/lib/api-client';

export async function getProduct(slug: string, signal?: AbortSignal): Promise<ProductDetail> {
  const { data } = await api.get<ProductDetail>(`/api/products/${encodeURIComponent(slug)}`, { signal });
  return data;
}

export const productQuery = (slug: string) =>
  queryOptions({
    queryKey: ['products', slug],
    queryFn: ({ signal }) => getProduct(slug, signal),
  });

export function useProduct(slug: string) {
  return useQuery(productQuery(slug));
}
