import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { AddressRequest } from '@/api/wire/AddressRequest';
import type { AddressResponse } from '@/api/wire/AddressResponse';
import type { AddressesResponse } from '@/api/wire/AddressesResponse';
import { api } from '@/lib/api-client';
import { sharedKeys } from '@/lib/query-keys';

export async function listAddresses(signal?: AbortSignal): Promise<AddressesResponse> {
  const { data } = await api.get<AddressesResponse>('/api/me/addresses', { signal });
  return data;
}

export const addressesQuery = () => queryOptions({ queryKey: sharedKeys.addresses, queryFn: ({ signal }) => listAddresses(signal) });

export function useAddresses() {
  return useQuery(addressesQuery());
}

export async function createAddress(body: AddressRequest): Promise<AddressResponse> {
  const { data } = await api.post<AddressResponse>('/api/me/addresses', body);
  return data;
}

export async function updateAddress(id: string, body: AddressRequest): Promise<AddressResponse> {
  const { data } = await api.put<AddressResponse>(`/api/me/addresses/${encodeURIComponent(id)}`, body);
  return data;
}

export async function deleteAddress(id: string): Promise<void> {
  await api.delete(`/api/me/addresses/${encodeURIComponent(id)}`);
}

function useAddressMutation<V, R>(fn: (variables: V) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sharedKeys.addresses }),
  });
}

export const useCreateAddress = () => useAddressMutation(createAddress);
export const useUpdateAddress = () => useAddressMutation(({ id, body }: { id: string; body: AddressRequest }) => updateAddress(id, body));
export const useDeleteAddress = () => useAddressMutation(deleteAddress);
