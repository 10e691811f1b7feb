import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { UpdateProfileRequest } from '@/api/wire/UpdateProfileRequest';
import type { UserResponse } from '@/api/wire/UserResponse';
import { api } from '@/lib/api-client';
import { sharedKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';

export async function getMe(signal?: AbortSignal): Promise<UserResponse> {
  const { data } = await api.get<UserResponse>('/api/me', { signal });
  return data;
}

export const meQuery = () => queryOptions({ queryKey: sharedKeys.me, queryFn: ({ signal }) => getMe(signal) });

export function useMe() {
  return useQuery(meQuery());
}

export async function updateProfile(body: UpdateProfileRequest): Promise<UserResponse> {
  const { data } = await api.patch<UserResponse>('/api/me', body);
  return data;
}

export function useUpdateProfile() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateProfile,
    onSuccess: (user) => {
      queryClient.setQueryData(sharedKeys.me, user);
      useSession.getState().setUser(user);
    },
  });
}
