import { useMutation, useQueryClient } from '@tanstack/react-query';

import type { RegisterRequest } from '@/api/wire/RegisterRequest';
import type { TokenResponse } from '@/api/wire/TokenResponse';
import type { UserResponse } from '@/api/wire/UserResponse';
import { api } from '@/lib/api-client';
import { useSession } from '@/lib/session';

import { login } from './login';

export async function register(body: RegisterRequest): Promise<UserResponse> {
  const { data } = await api.post<UserResponse>('/api/auth/register', body);
  return data;
}

/** Creates the account, then signs in with it (which keeps the guest's cart). */
export async function registerAndSignIn(body: RegisterRequest): Promise<TokenResponse> {
  await register(body);
  return login({ email: body.email, password: body.password });
}

export function useRegister() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: registerAndSignIn,
    onSuccess: async (token) => {
      useSession.getState().signIn(token);
      await queryClient.invalidateQueries();
    },
  });
}
