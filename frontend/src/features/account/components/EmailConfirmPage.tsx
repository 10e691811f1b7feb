import { Link, useSearchParams } from 'react-router-dom';

import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { toApiError } from '@/lib/api-error';

import { useConfirmEmailChange } from '../api/email';

/** The page's state: no token, done, refused, or waiting for the shopper to press the button. */
function ConfirmEmail({ token }: { token: string }) {
  const confirm = useConfirmEmailChange();
  if (!token) {
    return (
      <div role="alert" className="max-w-md space-y-2 rounded border border-red-300 bg-red-50 p-4 text-sm text-red-900">
        <p className="font-semibold">This link is incomplete</p>
        <p>It has no confirmation code. Open the link from the e-mail again, or ask for a new one from your profile.</p>
        <Link className="underline" to="/account">
          Back to your profile
        </Link>
      </div>
    );
  }
  if (confirm.isSuccess) {
    return (
      <div role="status" className="max-w-md space-y-2 text-sm">
        <p className="text-green-800">
          Your e-mail address is now <strong>{confirm.data.email}</strong>.
        </p>
        <p>Your other devices were signed out; this one stays signed in.</p>
        <Link className="underline" to="/account">
          Back to your profile
        </Link>
      </div>
    );
  }
  if (confirm.isError) {
    // A busy shop is worth another try; a used, expired or foreign link is not.
    const retry = toApiError(confirm.error).isTransient ? () => confirm.mutate({ token }) : undefined;
    return (
      <div className="max-w-md space-y-3 text-sm">
        <ErrorMessage error={confirm.error} title="Your e-mail address was not changed" onRetry={retry} />
        {retry ? null : (
          <Link className="underline" to="/account">
            Ask for a new link from your profile
          </Link>
        )}
      </div>
    );
  }
  return (
    <div className="max-w-md space-y-4 text-sm">
      <p>Confirm to move your account to the address this link was sent to. Your other devices will be signed out.</p>
      <Button busy={confirm.isPending} onClick={() => confirm.mutate({ token })}>
        Confirm my new address
      </Button>
    </div>
  );
}

/**
 * Where the link sent to a new e-mail address lands (`/account/email/confirm?token=…`).
 * Nothing is sent until the shopper presses the button: opening the page (or
 * React rendering it twice) never uses the link up.
 */
export function EmailConfirmPage() {
  const [params] = useSearchParams();
  return (
    <section aria-labelledby="email-confirm-title">
      <h2 id="email-confirm-title" className="mb-4 text-xl font-semibold">
        Confirm your new e-mail address
      </h2>
      <ConfirmEmail token={params.get('token')?.trim() ?? ''} />
    </section>
  );
}
