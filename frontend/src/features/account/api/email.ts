import { useMutation, useQueryClient } from '@tanstack/react-query';

import type { ChangeEmailRequest } from '@/api/wire/ChangeEmailRequest';
import type { ConfirmEmailRequest } from '@/api/wire/ConfirmEmailRequest';
import type { EmailChangePending } from '@/api/wire/EmailChangePending';
import type { UserResponse } from '@/api/wire/UserResponse';
import { api } from '@/lib/api-client';
import { sharedKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';

import { sessionsQuery } from './sessions';

/** Sends a link to the new address; the account keeps its old one until the link is opened. */
export async function requestEmailChange(body: ChangeEmailRequest): Promise<EmailChangePending> {
  const { data } = await api.post<EmailChangePending>('/api/me/email', body);
  return data;
}

export function useRequestEmailChange() {
  return useMutation({ mutationFn: requestEmailChange });
}

/** Opens the link's token: the account moves to the new address, and its other sessions are signed out. */
export async function confirmEmailChange(body: ConfirmEmailRequest): Promise<UserResponse> {
  const { data } = await api.post<UserResponse>('/api/me/email/confirm', body);
  return data;
}

export function useConfirmEmailChange() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: confirmEmailChange,
    onSuccess: (user) => {
      queryClient.setQueryData(sharedKeys.me, user);
      useSession.getState().setUser(user);
      // The cell signed the other sessions out; a cached list would still show them.
      void queryClient.invalidateQueries({ queryKey: sessionsQuery().queryKey });
    },
  });
}
