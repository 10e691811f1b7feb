import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { formatUnixSeconds } from '@/lib/format';
import { useSession } from '@/lib/session';

import { useRevokeAllSessions, useRevokeSession, useSessions } from '../api/sessions';

export function SessionsPage() {
  const query = useSessions();
  const revoke = useRevokeSession();
  const revokeAll = useRevokeAllSessions();
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title" className="mb-4 text-xl font-semibold">
        Where you are signed in
      </h2>
      {revoke.isError ? <ErrorMessage error={revoke.error} title="Could not sign that session out" /> : null}
      <Async query={query} errorTitle="Could not load your sessions">
        {({ sessions }) => (
          <ul className="space-y-3">
            {sessions.map((session) => (
              <li key={session.id} className="flex flex-wrap items-center justify-between gap-3 rounded border border-stone-200 bg-white p-4 text-sm">
                <div>
                  <p className="font-medium">
                    {session.device || 'Unknown device'} {session.current ? <span className="ml-1 rounded bg-accent px-2 py-0.5 text-xs text-white">This device</span> : null}
                  </p>
                  <p className="text-stone-700">
                    {session.ip} · signed in {formatUnixSeconds(session.created_at)} · last active {formatUnixSeconds(session.last_used_at)}
                  </p>
                </div>
                {!session.current ? (
                  <Button variant="secondary" busy={revoke.isPending && revoke.variables === session.id} onClick={() => revoke.mutate(session.id)}>
                    Sign out<span className="sr-only"> the session from {session.ip}</span>
                  </Button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Async>
      <div className="mt-6">
        <Button
          variant="danger"
          busy={revokeAll.isPending}
          onClick={() => revokeAll.mutate(undefined, { onSuccess: () => useSession.getState().signOut() })}
        >
          Sign out everywhere
        </Button>
        {revokeAll.isError ? <ErrorMessage error={revokeAll.error} title="Could not sign out everywhere" /> : null}
      </div>
    </section>
  );
}
