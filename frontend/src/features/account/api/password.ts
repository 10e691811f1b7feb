import { useMutation } from '@tanstack/react-query';

import type { ChangePasswordRequest } from '@/api/wire/ChangePasswordRequest';
import { api } from '@/lib/api-client';

/** Changes the password; the cell signs every other session out. */
export async function changePassword(body: ChangePasswordRequest): Promise<void> {
  await api.post('/api/me/password', body);
}

export function useChangePassword() {
  return useMutation({ mutationFn: changePassword });
}
