import { refreshSession } from '@/lib/api-client';
import { CSRF_COOKIE, readCookie } from '@/lib/cookies';
import { useSession } from '@/lib/session';

/**
 * At start-up (and after Google sign-in, which sets the cookies and sends the
 * browser back): one refresh turns the refresh cookie into an access token.
 * Without the CSRF cookie there is no session to restore.
 */
export async function restoreSession(): Promise<void> {
  if (useSession.getState().status !== 'restoring') return;
  if (readCookie(CSRF_COOKIE) === undefined) {
    useSession.getState().signOut();
    return;
  }
  try {
    await refreshSession();
  } catch {
    // Ended sessions are signed out by refreshSession; when the shop could not
    // be reached, carry on as a guest (the cookie stays for the next load).
    if (useSession.getState().status === 'restoring') useSession.getState().signOut();
  }
}
