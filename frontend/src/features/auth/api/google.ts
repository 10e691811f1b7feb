/** Google sign-in is a full-page redirect through the cell, back to `returnTo`. */
export function googleStartUrl(returnTo: string): string {
  const safe = returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/';
  return `/api/auth/google/start?return_to=${encodeURIComponent(safe)}`;
}
