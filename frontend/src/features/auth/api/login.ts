import { useMutation, useQueryClient } from '@tanstack/react-query';

import type { LoginRequest } from '@/api/wire/LoginRequest';
import type { TokenResponse } from '@/api/wire/TokenResponse';
import { api } from '@/lib/api-client';
import { useSession } from '@/lib/session';

export async function login(body: LoginRequest): Promise<TokenResponse> {
  const { data } = await api.post<TokenResponse>('/api/auth/login', body);
  return data;
}

/**
 * Signs in. The cell merges the guest's cart into the account's, so every
 * cached query (the cart first) is read again as the signed-in shopper.
 */
export function useLogin() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: login,
    onSuccess: async (token) => {
      useSession.getState().signIn(token);
      await queryClient.invalidateQueries();
    },
  });
}
