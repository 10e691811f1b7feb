import { toApiError, type ApiError } from '@/lib/api-error';

import { Button } from './Button';

type Props = { error: unknown; onRetry?: () => void; title?: string };

/** How every failure is shown: the server's message, its code and request id for support. */
export function ErrorMessage({ error, onRetry, title = 'Something went wrong' }: Props) {
  const normalised: ApiError = toApiError(error);
  return (
    <div role="alert" className="rounded border border-red-300 bg-red-50 p-4 text-sm text-red-900">
      <p className="font-semibold">{title}</p>
      <p className="mt-1">{normalised.message}</p>
      <p className="mt-1 text-xs text-red-800">
        <span>Code: {normalised.code}</span>
        {normalised.requestId ? <span> · Request: {normalised.requestId}</span> : null}
      </p>
      {onRetry ? (
        <Button variant="secondary" className="mt-3" onClick={onRetry}>
          Try again
        </Button>
      ) : null}
    </div>
  );
}
