import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import type { SessionsResponse } from '@/api/wire/SessionsResponse';
import { api } from '@/lib/api-client';

const sessionsKey = ['me', 'sessions'] as const;

export async function listSessions(signal?: AbortSignal): Promise<SessionsResponse> {
  const { data } = await api.get<SessionsResponse>('/api/me/sessions', { signal });
  return data;
}

export const sessionsQuery = () => queryOptions({ queryKey: sessionsKey, queryFn: ({ signal }) => listSessions(signal) });

export function useSessions() {
  return useQuery(sessionsQuery());
}

export async function revokeSession(id: string): Promise<void> {
  await api.delete(`/api/me/sessions/${encodeURIComponent(id)}`);
}

export async function revokeAllSessions(): Promise<void> {
  await api.delete('/api/me/sessions');
}

export function useRevokeSession() {
  const queryClient = useQueryClient();
  return useMutation({ mutationFn: revokeSession, onSuccess: () => queryClient.invalidateQueries({ queryKey: sessionsKey }) });
}

/** Ends every session, this one included: the page signs out afterwards. */
export function useRevokeAllSessions() {
  return useMutation({ mutationFn: revokeAllSessions });
}
