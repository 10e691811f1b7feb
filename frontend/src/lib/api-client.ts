import axios, { AxiosError, AxiosHeaders, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';

import type { TokenResponse } from '@/api/wire/TokenResponse';
import { env } from '@/config/env';

import { ApiError, toApiError } from './api-error';
import { blobText, isBlob } from './blob';
import { CSRF_COOKIE, CSRF_HEADER, readCookie } from './cookies';
import { useSession } from './session';

export type ApiClientOptions = {
  /** Origin of the edge; '' for the page's own. */
  baseURL: string;
  timeoutMs: number;
  /** Attempts for an idempotent request that fails transiently (1 = no retry). */
  attempts: number;
  /** First back-off step; doubled for each further attempt, with jitter. */
  baseDelayMs: number;
  /** Longest wait between attempts, whatever `Retry-After` says. */
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
};

export type ApiClient = {
  http: AxiosInstance;
  /**
   * Swaps the refresh cookie for a new access token. Concurrent callers share
   * one request; a 401 or 403 signs the page out.
   */
  refresh: () => Promise<TokenResponse>;
};

type TrackedConfig = InternalAxiosRequestConfig & {
  /** The bearer token the request went out with. */
  _token?: string | null;
  /** Replayed once after a refresh already. */
  _replayed?: boolean;
  /** Attempts so far (1 for the first). */
  _attempt?: number;
};

const IDEMPOTENT = new Set(['get', 'head', 'options', 'put', 'delete']);
const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);
/** Auth calls whose 401 means "wrong credentials", never "refresh and replay". */
const NO_REFRESH = ['/api/auth/login', '/api/auth/register', '/api/auth/refresh', '/api/auth/logout'];

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function isIdempotent(config: TrackedConfig): boolean {
  const method = (config.method ?? 'get').toLowerCase();
  if (IDEMPOTENT.has(method)) return true;
  // A POST carrying an Idempotency-Key is safe to send again: the server replays it.
  return AxiosHeaders.from(config.headers).has('Idempotency-Key');
}

function isTransient(error: AxiosError): boolean {
  if (error.code === AxiosError.ERR_CANCELED) return false;
  if (!error.response) return true;
  return TRANSIENT_STATUS.has(error.response.status);
}

/** An error body fetched as a Blob (downloads) is read back into JSON, so it normalises like any other. */
async function decodeBlobError(error: AxiosError): Promise<void> {
  const response = error.response;
  const data: unknown = response?.data;
  if (!response || !isBlob(data)) return;
  try {
    response.data = JSON.parse(await blobText(data));
  } catch {
    // not JSON: leave it, the status alone describes the failure
  }
}

/**
 * The refresh token is rotated on every use and a rotated one presented again
 * ends the session, so tabs refresh one at a time (Web Locks where the browser
 * has them): the second tab then sends the cookie the first one received.
 */
function acrossTabs<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined;
  if (!locks) return work();
  return locks.request('cellwear-auth-refresh', work);
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const sleep = options.sleep ?? defaultSleep;
  const http = axios.create({
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    withCredentials: true,
    headers: { Accept: 'application/json' },
  });
  // Refresh goes around the interceptors: its own 401 must not trigger another refresh.
  const bare = axios.create({ baseURL: options.baseURL, timeout: options.timeoutMs, withCredentials: true });

  let inFlight: Promise<TokenResponse> | null = null;

  const refresh = (): Promise<TokenResponse> => {
    inFlight ??= (async () => {
      try {
        const data = await acrossTabs(async () => {
          // Read inside the lock: another tab may have just rotated the cookies.
          const csrf = readCookie(CSRF_COOKIE);
          const response = await bare.post<TokenResponse>('/api/auth/refresh', null, {
            headers: csrf ? { [CSRF_HEADER]: csrf } : {},
          });
          return response.data;
        });
        useSession.getState().signIn(data);
        return data;
      } catch (error) {
        const failure = toApiError(error);
        // The session is over only when the cell says so; a network blip keeps it.
        if (failure.status === 401 || failure.status === 403) useSession.getState().signOut();
        throw failure;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };

  http.interceptors.request.use((config: TrackedConfig) => {
    const token = useSession.getState().accessToken;
    config._token = token;
    config._attempt ??= 1;
    if (token) config.headers.set('Authorization', `Bearer ${token}`);
    return config;
  });

  http.interceptors.response.use(undefined, async (error: unknown) => {
    if (!(error instanceof AxiosError) || !error.config) throw toApiError(error);
    const config = error.config as TrackedConfig;
    await decodeBlobError(error);
    const status = error.response?.status;
    const path = config.url ?? '';

    if (status === 401 && !config._replayed && !NO_REFRESH.some((p) => path.startsWith(p))) {
      const current = useSession.getState().accessToken;
      const canRefresh = Boolean(config._token) || readCookie(CSRF_COOKIE) !== undefined;
      if (canRefresh) {
        config._replayed = true;
        if (!current || current === config._token) {
          try {
            await refresh();
          } catch {
            throw toApiError(error);
          }
        }
        // else another request refreshed meanwhile: replay with its token.
        return http.request(config);
      }
    }

    const attempt = config._attempt ?? 1;
    if (attempt < options.attempts && isIdempotent(config) && isTransient(error)) {
      const normalised = toApiError(error);
      const backoff = options.baseDelayMs * 2 ** (attempt - 1);
      const jitter = Math.random() * options.baseDelayMs * 0.5;
      const wanted = normalised.retryAfter !== undefined ? normalised.retryAfter * 1000 : backoff + jitter;
      await sleep(Math.min(wanted, options.maxDelayMs));
      config._attempt = attempt + 1;
      return http.request(config);
    }
    throw toApiError(error);
  });

  return { http, refresh };
}

let client: ApiClient | undefined;

function defaultClient(): ApiClient {
  if (!client) {
    const settings = env();
    client = createApiClient({
      baseURL: settings.apiBaseUrl,
      timeoutMs: settings.requestTimeoutMs,
      attempts: settings.requestAttempts,
      baseDelayMs: 300,
      maxDelayMs: 5000,
    });
  }
  return client;
}

/** The app's HTTP client (see {@link createApiClient}). */
export const api = {
  get: <T>(...args: Parameters<AxiosInstance['get']>) => defaultClient().http.get<T>(...args),
  post: <T>(...args: Parameters<AxiosInstance['post']>) => defaultClient().http.post<T>(...args),
  put: <T>(...args: Parameters<AxiosInstance['put']>) => defaultClient().http.put<T>(...args),
  patch: <T>(...args: Parameters<AxiosInstance['patch']>) => defaultClient().http.patch<T>(...args),
  delete: <T>(...args: Parameters<AxiosInstance['delete']>) => defaultClient().http.delete<T>(...args),
};

export function refreshSession(): Promise<TokenResponse> {
  return defaultClient().refresh();
}

export { ApiError };
