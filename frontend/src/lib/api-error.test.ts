import { AxiosError, AxiosHeaders, type AxiosResponse } from 'axios';
import { describe, expect, it } from 'vitest';

import type { ErrorBody } from '@/api/wire/ErrorBody';

import { ApiError, toApiError } from './api-error';

function responseError(status: number, data: unknown, headers: Record<string, string> = {}): AxiosError {
  const config = { headers: new AxiosHeaders() };
  const response = { status, statusText: '', data, headers, config } as AxiosResponse;
  return new AxiosError('failed', 'ERR_BAD_RESPONSE', config, {}, response);
}

describe('toApiError', () => {
  it('reads the flat error body the services send: code, message, request id', () => {
    const body: ErrorBody = { code: 'not_enough_stock', message: 'Only 2 left.', request_id: 'req-9' };
    const error = toApiError(responseError(409, body));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'not_enough_stock', message: 'Only 2 left.', requestId: 'req-9' });
  });

  it('reads a body without a request id (the field is left out when there is none)', () => {
    const error = toApiError(responseError(400, { code: 'invalid_audit_query', message: 'limit: 1-200' }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_audit_query', message: 'limit: 1-200', requestId: undefined });
  });

  it('does not take a body nested under "error" for the server\'s own', () => {
    const error = toApiError(responseError(409, { error: { code: 'not_enough_stock', message: 'Only 2 left.' } }));
    expect(error.code).toBe('http_409');
  });

  it('keeps Retry-After in seconds', () => {
    const error = toApiError(responseError(429, { code: 'rate_limited', message: 'Slow down.' }, { 'retry-after': '3' }));
    expect(error.retryAfter).toBe(3);
    expect(error.isTransient).toBe(true);
  });

  it('describes a response without the envelope by its status', () => {
    const error = toApiError(responseError(502, '<html>Bad gateway</html>'));
    expect(error.code).toBe('http_502');
    expect(error.message).toMatch(/not reachable/);
  });

  it('names a missing answer a network error, a slow one a timeout', () => {
    const config = { headers: new AxiosHeaders() };
    expect(toApiError(new AxiosError('Network Error', 'ERR_NETWORK', config)).code).toBe('network_error');
    expect(toApiError(new AxiosError('timeout', 'ECONNABORTED', config)).code).toBe('timeout');
    expect(toApiError(new AxiosError('canceled', 'ERR_CANCELED', config)).code).toBe('cancelled');
  });

  it('wraps anything else and passes an ApiError through', () => {
    expect(toApiError(new Error('boom'))).toMatchObject({ status: 0, code: 'unexpected', message: 'boom' });
    const original = new ApiError({ status: 400, code: 'x', message: 'y' });
    expect(toApiError(original)).toBe(original);
  });
});
