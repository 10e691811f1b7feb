import { infiniteQueryOptions, queryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { AdminProductPage } from '@/api/wire/AdminProductPage';
import type { ProductSnapshot } from '@/api/wire/ProductSnapshot';
import type { ProductUpdate } from '@/api/wire/ProductUpdate';
import { api } from '@/lib/api-client';

const productsKey = ['admin', 'products'] as const;

export async function listAdminProducts(cursor: string | null, signal?: AbortSignal): Promise<AdminProductPage> {
  const { data } = await api.get<AdminProductPage>('/admin/api/products', { params: { limit: 50, ...(cursor ? { cursor } : {}) }, signal });
  return data;
}

export const adminProductsQuery = () =>
  infiniteQueryOptions({
    queryKey: [...productsKey, 'list'],
    queryFn: ({ pageParam, signal }) => listAdminProducts(pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

export function useAdminProducts() {
  return useInfiniteQuery(adminProductsQuery());
}

export async function getAdminProduct(id: string, signal?: AbortSignal): Promise<ProductSnapshot> {
  const { data } = await api.get<ProductSnapshot>(`/admin/api/products/${encodeURIComponent(id)}`, { signal });
  return data;
}

export const adminProductQuery = (id: string) =>
  queryOptions({ queryKey: [...productsKey, 'detail', id], queryFn: ({ signal }) => getAdminProduct(id, signal), staleTime: 0 });

export function useAdminProduct(id: string) {
  return useQuery(adminProductQuery(id));
}

/** Replaces the product whole; `expected_version` makes a concurrent edit a 409 `version_conflict`. */
export async function replaceProduct(id: string, body: ProductUpdate): Promise<ProductSnapshot> {
  const { data } = await api.put<ProductSnapshot>(`/admin/api/products/${encodeURIComponent(id)}`, body);
  return data;
}

export async function setPublished(id: string, published: boolean): Promise<ProductSnapshot> {
  const { data } = await api.post<ProductSnapshot>(`/admin/api/products/${encodeURIComponent(id)}/${published ? 'publish' : 'unpublish'}`);
  return data;
}

function useProductMutation<V>(id: string, fn: (variables: V) => Promise<ProductSnapshot>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async (product) => {
      queryClient.setQueryData(adminProductQuery(id).queryKey, product);
      await queryClient.invalidateQueries({ queryKey: [...productsKey, 'list'] });
    },
  });
}

export const useReplaceProduct = (id: string) => useProductMutation(id, (body: ProductUpdate) => replaceProduct(id, body));
export const useSetPublished = (id: string) => useProductMutation(id, (published: boolean) => setPublished(id, published));
