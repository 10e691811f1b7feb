import { queryOptions, useQuery } from '@tanstack/react-query';

import type { AddressesResponse } from '@/api/wire/AddressesResponse';
import { api } from '@/lib/api-client';
import { sharedKeys } from '@/lib/query-keys';

/** The account's saved addresses, to pick one at the address step (same cache as the account pages). */
export async function getSavedAddresses(signal?: AbortSignal): Promise<AddressesResponse> {
  const { data } = await api.get<AddressesResponse>('/api/me/addresses', { signal });
  return data;
}

export const savedAddressesQuery = () =>
  queryOptions({ queryKey: sharedKeys.addresses, queryFn: ({ signal }) => getSavedAddresses(signal) });

export function useSavedAddresses() {
  return useQuery(savedAddressesQuery());
}
