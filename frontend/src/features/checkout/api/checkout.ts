import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { CheckoutAddress } from '@/api/wire/CheckoutAddress';
import type { CheckoutPayment } from '@/api/wire/CheckoutPayment';
import type { CheckoutView } from '@/api/wire/CheckoutView';
import { api } from '@/lib/api-client';
import { idempotencyKey } from '@/lib/format';
import { sharedKeys } from '@/lib/query-keys';

// Every checkout POST carries an Idempotency-Key: a retry (the HTTP client
// retries them on transient failures) is answered with the first response.

const checkoutKey = (id: string) => ['checkout', id] as const;

async function post(path: string, body: unknown, key: string): Promise<CheckoutView> {
  const { data } = await api.post<CheckoutView>(path, body, { headers: { 'Idempotency-Key': key } });
  return data;
}

export function startCheckout(key = idempotencyKey()): Promise<CheckoutView> {
  return post('/api/checkout', null, key);
}

export async function getCheckout(id: string, signal?: AbortSignal): Promise<CheckoutView> {
  const { data } = await api.get<CheckoutView>(`/api/checkout/${encodeURIComponent(id)}`, { signal });
  return data;
}

export function submitAddress(id: string, body: CheckoutAddress, key = idempotencyKey()): Promise<CheckoutView> {
  return post(`/api/checkout/${encodeURIComponent(id)}/address`, body, key);
}

export function submitShipping(id: string, method: string, key = idempotencyKey()): Promise<CheckoutView> {
  return post(`/api/checkout/${encodeURIComponent(id)}/shipping`, { method }, key);
}

export function submitPayment(id: string, body: CheckoutPayment, key = idempotencyKey()): Promise<CheckoutView> {
  return post(`/api/checkout/${encodeURIComponent(id)}/payment`, body, key);
}

/** How often a checkout waiting for its payment is read again (tests shorten it). */
export const paymentPolling = { intervalMs: 1000 };

/** Polls while an order waits for its payment's confirmation. */
export const checkoutQuery = (id: string) =>
  queryOptions({
    queryKey: checkoutKey(id),
    queryFn: ({ signal }) => getCheckout(id, signal),
    staleTime: 0,
    refetchInterval: (query) => (query.state.data?.step === 'paying' ? paymentPolling.intervalMs : false),
  });

export function useCheckout(id: string) {
  return useQuery(checkoutQuery(id));
}

export function useStartCheckout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => startCheckout(),
    onSuccess: (view) => queryClient.setQueryData(checkoutKey(view.id), view),
  });
}

function useStep<V>(id: string, fn: (variables: V) => Promise<CheckoutView>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async (view) => {
      queryClient.setQueryData(checkoutKey(id), view);
      if (view.step === 'completed') {
        await queryClient.invalidateQueries({ queryKey: sharedKeys.cart });
        await queryClient.invalidateQueries({ queryKey: sharedKeys.orders });
      }
    },
  });
}

export const useSubmitAddress = (id: string) => useStep(id, (body: CheckoutAddress) => submitAddress(id, body));
export const useSubmitShipping = (id: string) => useStep(id, (method: string) => submitShipping(id, method));
export const useSubmitPayment = (id: string) => useStep(id, (body: CheckoutPayment) => submitPayment(id, body));
