import { create } from 'zustand';

import type { TokenResponse } from '@/api/wire/TokenResponse';
import type { UserResponse } from '@/api/wire/UserResponse';

/**
 * Who is signed in. The access token lives in memory only (the refresh token
 * is an HttpOnly cookie), so a reload restores the session with one refresh.
 */
export type SessionStatus = 'restoring' | 'anonymous' | 'authenticated';

type SessionState = {
  status: SessionStatus;
  accessToken: string | null;
  user: UserResponse | null;
  signIn: (token: TokenResponse) => void;
  signOut: () => void;
  setUser: (user: UserResponse) => void;
};

export const useSession = create<SessionState>((set) => ({
  status: 'restoring',
  accessToken: null,
  user: null,
  signIn: (token) => set({ status: 'authenticated', accessToken: token.access_token, user: token.user }),
  signOut: () => set({ status: 'anonymous', accessToken: null, user: null }),
  setUser: (user) => set({ user }),
}));

export type Role = 'user' | 'admin' | 'sre';

export function hasRole(user: UserResponse | null, role: Role): boolean {
  return user?.roles.includes(role) ?? false;
}
