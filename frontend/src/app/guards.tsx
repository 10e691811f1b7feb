import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';

import { Spinner } from '@/components/ui/Spinner';
import { hasRole, useSession, type Role } from '@/lib/session';

/**
 * Pages for the signed in (and, with `role`, for that role only; with a list,
 * for any of those roles). Guests are sent to sign in and back; a user without
 * the role sees "not found" — the pages are hidden, and the APIs refuse them anyway.
 */
export function RequireAuth({ children, role }: { children: ReactNode; role?: Role | readonly Role[] }) {
  const { status, user } = useSession();
  const location = useLocation();
  if (status === 'restoring') return <Spinner label="Checking your session…" />;
  if (status !== 'authenticated') {
    return <Navigate to={`/login?return_to=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  const roles: readonly Role[] = role === undefined ? [] : typeof role === 'string' ? [role] : role;
  if (roles.length > 0 && !roles.some((one) => hasRole(user, one))) return <NotFound />;
  return <>{children}</>;
}

export function NotFound() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="mt-2 text-stone-700">There is nothing at this address.</p>
    </div>
  );
}
