import { QueryClient } from '@tanstack/react-query';

import { ApiError } from './api-error';

/**
 * Server state. Transient failures are already retried by the HTTP client
 * (with back-off), so queries do not retry again on top.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: false,
        staleTime: 30_000,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
