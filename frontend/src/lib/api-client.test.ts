import { http, HttpResponse } from 'msw';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { aToken, aUser } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { server } from '@/testing/server';

import { createApiClient, type ApiClientOptions } from './api-client';
import { ApiError } from './api-error';
import { useSession } from './session';

function client(overrides: Partial<ApiClientOptions> = {}) {
  const sleep = vi.fn((_ms: number) => Promise.resolve());
  const api = createApiClient({ baseURL: '', timeoutMs: 5000, attempts: 3, baseDelayMs: 100, maxDelayMs: 2000, sleep, ...overrides });
  return { ...api, sleep };
}

function signedIn(token: string) {
  useSession.setState({ status: 'authenticated', accessToken: token, user: aUser() });
}

describe('api client: the access token and the shared refresh', () => {
  beforeEach(() => {
    document.cookie = 'csrf_token=csrf-abc; path=/';
  });

  it('sends the access token as a bearer token', async () => {
    signedIn('token-1');
    let seen: string | null = null;
    server.use(
      http.get('*/api/me', ({ request }) => {
        seen = request.headers.get('authorization');
        return HttpResponse.json(aUser());
      }),
    );
    await client().http.get('/api/me');
    expect(seen).toBe('Bearer token-1');
  });

  it('refreshes once for concurrent 401s and replays every request with the new token', async () => {
    signedIn('old-token');
    let refreshes = 0;
    let csrfHeader: string | null = null;
    const replayedWith: string[] = [];
    server.use(
      http.post('*/api/auth/refresh', async ({ request }) => {
        refreshes += 1;
        csrfHeader = request.headers.get('x-csrf-token');
        // Slow enough that every 401 arrives while the refresh is in flight.
        await new Promise((resolve) => setTimeout(resolve, 30));
        return HttpResponse.json(aToken('new-token'));
      }),
      http.get('*/api/things/:n', ({ request, params }) => {
        const auth = request.headers.get('authorization');
        if (auth !== 'Bearer new-token') return apiError(401, 'token_expired', 'The access token has expired.');
        replayedWith.push(`${String(params.n)}:${auth}`);
        return HttpResponse.json({ n: params.n });
      }),
    );
    const api = client();
    const results = await Promise.all([1, 2, 3, 4].map((n) => api.http.get(`/api/things/${n}`)));
    expect(results.map((r) => (r.data as { n: string }).n)).toEqual(['1', '2', '3', '4']);
    expect(refreshes).toBe(1);
    expect(csrfHeader).toBe('csrf-abc');
    expect(replayedWith.sort()).toEqual(['1:Bearer new-token', '2:Bearer new-token', '3:Bearer new-token', '4:Bearer new-token']);
    expect(useSession.getState().accessToken).toBe('new-token');
  });

  it('signs out and rejects with the original 401 when the refresh fails', async () => {
    signedIn('old-token');
    server.use(
      http.post('*/api/auth/refresh', () => apiError(401, 'invalid_refresh_token', 'Sign in again.')),
      http.get('*/api/me', () => apiError(401, 'token_expired', 'The access token has expired.')),
    );
    const error = await client()
      .http.get('/api/me')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('token_expired');
    expect(useSession.getState().status).toBe('anonymous');
  });

  it('keeps the session when the refresh fails for want of an answer', async () => {
    signedIn('old-token');
    server.use(
      http.post('*/api/auth/refresh', () => HttpResponse.error()),
      http.get('*/api/me', () => apiError(401, 'token_expired', 'The access token has expired.')),
    );
    const error = await client()
      .http.get('/api/me')
      .catch((e: unknown) => e);
    expect((error as ApiError).code).toBe('token_expired');
    expect(useSession.getState()).toMatchObject({ status: 'authenticated', accessToken: 'old-token' });
  });

  it('does not refresh when a sign-in itself answers 401', async () => {
    let refreshes = 0;
    server.use(
      http.post('*/api/auth/refresh', () => {
        refreshes += 1;
        return HttpResponse.json(aToken());
      }),
      http.post('*/api/auth/login', () => apiError(401, 'invalid_credentials', 'Wrong e-mail or password.')),
    );
    const error = await client()
      .http.post('/api/auth/login', { email: 'a@b.c', password: 'x' })
      .catch((e: unknown) => e);
    expect((error as ApiError).code).toBe('invalid_credentials');
    expect(refreshes).toBe(0);
  });

  it('replays only once: a second 401 after refreshing is returned', async () => {
    signedIn('old-token');
    let calls = 0;
    server.use(
      http.post('*/api/auth/refresh', () => HttpResponse.json(aToken('new-token'))),
      http.get('*/api/me', () => {
        calls += 1;
        return apiError(401, 'token_revoked', 'Revoked.');
      }),
    );
    const error = await client()
      .http.get('/api/me')
      .catch((e: unknown) => e);
    expect((error as ApiError).code).toBe('token_revoked');
    expect(calls).toBe(2);
  });
});

describe('api client: retries with back-off', () => {
  it('retries an idempotent request on 503 with growing delays, then succeeds', async () => {
    let calls = 0;
    server.use(
      http.get('*/api/products', () => {
        calls += 1;
        return calls < 3 ? apiError(503, 'unavailable', 'Busy.') : HttpResponse.json({ items: [] });
      }),
    );
    const api = client();
    const response = await api.http.get('/api/products');
    expect(response.status).toBe(200);
    expect(calls).toBe(3);
    expect(api.sleep).toHaveBeenCalledTimes(2);
    const [first, second] = api.sleep.mock.calls.map(([ms]) => ms);
    expect(first).toBeGreaterThanOrEqual(100);
    expect(first).toBeLessThan(150);
    expect(second).toBeGreaterThanOrEqual(200);
    expect(second).toBeLessThan(250);
  });

  it('gives up after the last attempt with the normalised error', async () => {
    let calls = 0;
    server.use(
      http.get('*/api/products', () => {
        calls += 1;
        return apiError(503, 'search_warming', 'The index is being built.');
      }),
    );
    const error = await client()
      .http.get('/api/products')
      .catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('search_warming');
  });

  it('waits as long as Retry-After says, capped', async () => {
    let calls = 0;
    server.use(
      http.get('*/api/products', () => {
        calls += 1;
        return calls === 1 ? apiError(429, 'rate_limited', 'Slow down.', { headers: { 'Retry-After': '1' } }) : HttpResponse.json({});
      }),
    );
    const api = client();
    await api.http.get('/api/products');
    expect(api.sleep).toHaveBeenCalledWith(1000);
  });

  it('never retries a POST without an Idempotency-Key', async () => {
    let calls = 0;
    server.use(
      http.post('*/api/cart/items', () => {
        calls += 1;
        return apiError(503, 'unavailable', 'Busy.');
      }),
    );
    await client()
      .http.post('/api/cart/items', { sku: 'A', quantity: 1 })
      .catch(() => undefined);
    expect(calls).toBe(1);
  });

  it('retries a POST that carries an Idempotency-Key', async () => {
    const keys: (string | null)[] = [];
    server.use(
      http.post('*/api/checkout', ({ request }) => {
        keys.push(request.headers.get('idempotency-key'));
        return keys.length === 1 ? HttpResponse.error() : HttpResponse.json({ id: 'co-1' }, { status: 201 });
      }),
    );
    const response = await client().http.post('/api/checkout', null, { headers: { 'Idempotency-Key': 'k-1' } });
    expect(response.status).toBe(201);
    expect(keys).toEqual(['k-1', 'k-1']);
  });

  it('does not retry a client error', async () => {
    let calls = 0;
    server.use(
      http.get('*/api/products/nope', () => {
        calls += 1;
        return apiError(404, 'product_not_found', 'No such product.');
      }),
    );
    await client()
      .http.get('/api/products/nope')
      .catch(() => undefined);
    expect(calls).toBe(1);
  });
});
