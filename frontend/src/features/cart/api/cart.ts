import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { AddToCart } from '@/api/wire/AddToCart';
import type { CartView } from '@/api/wire/CartView';
import { api } from '@/lib/api-client';
import { sharedKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';

// Every cart call answers with the whole cart priced now, which replaces the cached one.

export async function getCart(signal?: AbortSignal): Promise<CartView> {
  const { data } = await api.get<CartView>('/api/cart', { signal });
  return data;
}

export const cartQuery = () => queryOptions({ queryKey: sharedKeys.cart, queryFn: ({ signal }) => getCart(signal), staleTime: 10_000 });

/**
 * The cart, once the session is known: asked while the session is still being
 * restored, it would come as a guest's (the `sk` cookie's) and show a signed-in
 * shopper an empty cart after a reload.
 */
export function useCart() {
  const restoring = useSession((state) => state.status === 'restoring');
  return useQuery({ ...cartQuery(), enabled: !restoring });
}

export async function addToCart(body: AddToCart): Promise<CartView> {
  const { data } = await api.post<CartView>('/api/cart/items', body);
  return data;
}

export async function setQuantity(sku: string, quantity: number): Promise<CartView> {
  const { data } = await api.patch<CartView>(`/api/cart/items/${encodeURIComponent(sku)}`, { quantity });
  return data;
}

export async function removeLine(sku: string): Promise<CartView> {
  const { data } = await api.delete<CartView>(`/api/cart/items/${encodeURIComponent(sku)}`);
  return data;
}

export async function applyCoupon(code: string): Promise<CartView> {
  const { data } = await api.put<CartView>('/api/cart/coupon', { code });
  return data;
}

export async function removeCoupon(): Promise<CartView> {
  const { data } = await api.delete<CartView>('/api/cart/coupon');
  return data;
}

function useCartMutation<V>(fn: (variables: V) => Promise<CartView>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: (cart) => queryClient.setQueryData(sharedKeys.cart, cart),
  });
}

export const useAddToCart = () => useCartMutation(addToCart);
export const useSetQuantity = () => useCartMutation(({ sku, quantity }: { sku: string; quantity: number }) => setQuantity(sku, quantity));
export const useRemoveLine = () => useCartMutation(removeLine);
export const useApplyCoupon = () => useCartMutation(applyCoupon);
export const useRemoveCoupon = () => useCartMutation((_: void) => removeCoupon());
