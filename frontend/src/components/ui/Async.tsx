import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';

import { ErrorMessage } from './ErrorMessage';
import { Spinner } from './Spinner';

type Props<T> = {
  query: UseQueryResult<T>;
  children: (data: T) => ReactNode;
  loadingLabel?: string;
  errorTitle?: string;
};

/** The loading and error states of one query, then its data. */
export function Async<T>({ query, children, loadingLabel, errorTitle }: Props<T>) {
  if (query.isPending) return <Spinner label={loadingLabel} />;
  if (query.isError) return <ErrorMessage error={query.error} title={errorTitle} onRetry={() => void query.refetch()} />;
  return <>{children(query.data)}</>;
}
