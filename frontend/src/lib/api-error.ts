import { AxiosError } from 'axios';

import type { ErrorBody } from '@/api/wire/ErrorBody';

/** Every failure the UI shows, whatever produced it. */
export class ApiError extends Error {
  override name = 'ApiError';
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** The server's stable code (`not_enough_stock`, …) or one of ours: `network_error`, `timeout`, `cancelled`, `http_<status>`, `unexpected`. */
  readonly code: string;
  readonly requestId: string | undefined;
  /** Seconds, from `Retry-After`, when the server gave one. */
  readonly retryAfter: number | undefined;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    requestId?: string | undefined;
    retryAfter?: number | undefined;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }

  /** Worth trying again later: no answer, or the server said it was busy. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message, request_id: requestId } = value as Record<string, unknown>;
  return (
    typeof code === 'string' &&
    typeof message === 'string' &&
    (requestId === undefined || requestId === null || typeof requestId === 'string')
  );
}

/** The body every service answers errors with: `ErrorBody` itself, flat (`{code, message, request_id}`). */
function errorBodyOf(data: unknown): ErrorBody | undefined {
  return isErrorBody(data) ? data : undefined;
}

function retryAfterOf(headers: unknown): number | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const raw = (headers as Record<string, unknown>)['retry-after'];
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'The request was not accepted.',
  401: 'Please sign in.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  409: 'That conflicts with a change made meanwhile. Please try again.',
  422: 'Some details are not valid.',
  429: 'Too many attempts. Please wait a moment.',
  502: 'The shop is not reachable right now. Please try again.',
  503: 'The shop is busy right now. Please try again shortly.',
  504: 'The shop took too long to answer. Please try again.',
};

/** Turns anything thrown by a request into an {@link ApiError}. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof AxiosError) {
    if (error.code === AxiosError.ERR_CANCELED) {
      return new ApiError({ status: 0, code: 'cancelled', message: 'The request was cancelled.' });
    }
    const response = error.response;
    if (!response) {
      if (error.code === AxiosError.ECONNABORTED || error.code === AxiosError.ETIMEDOUT) {
        return new ApiError({ status: 0, code: 'timeout', message: 'The shop took too long to answer. Please try again.' });
      }
      return new ApiError({
        status: 0,
        code: 'network_error',
        message: 'Cannot reach the shop. Check your connection and try again.',
      });
    }
    const body = errorBodyOf(response.data);
    const retryAfter = retryAfterOf(response.headers);
    if (body) {
      return new ApiError({
        status: response.status,
        code: body.code,
        message: body.message,
        requestId: body.request_id ?? undefined,
        retryAfter,
      });
    }
    return new ApiError({
      status: response.status,
      code: `http_${response.status}`,
      message: STATUS_TEXT[response.status] ?? `The shop answered with status ${response.status}.`,
      retryAfter,
    });
  }
  return new ApiError({
    status: 0,
    code: 'unexpected',
    message: error instanceof Error ? error.message : 'Something went wrong.',
  });
}
