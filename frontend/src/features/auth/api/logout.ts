import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from '@/lib/cookies';
import { useSession } from '@/lib/session';

export async function logout(): Promise<void> {
  const csrf = readCookie(CSRF_COOKIE);
  await api.post('/api/auth/logout', null, { headers: csrf ? { [CSRF_HEADER]: csrf } : {} });
}

/** Signs out; the page forgets the session and its cached data even if the call fails. */
export function useLogout() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: logout,
    onSettled: () => {
      useSession.getState().signOut();
      queryClient.clear();
    },
  });
}
