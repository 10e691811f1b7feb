import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { useSession } from '@/lib/session';
import { aToken } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { server } from '@/testing/server';

import { restoreSession } from './api/restore';

describe('restoreSession', () => {
  it('turns the refresh cookie into an access token at start-up', async () => {
    useSession.setState({ status: 'restoring', accessToken: null, user: null });
    document.cookie = 'csrf_token=csrf-1; path=/';
    server.use(http.post('*/api/auth/refresh', () => HttpResponse.json(aToken('restored'))));
    await restoreSession();
    expect(useSession.getState()).toMatchObject({ status: 'authenticated', accessToken: 'restored' });
  });

  it('is a guest without the CSRF cookie, asking nothing', async () => {
    useSession.setState({ status: 'restoring', accessToken: null, user: null });
    let asked = false;
    server.use(
      http.post('*/api/auth/refresh', () => {
        asked = true;
        return HttpResponse.json(aToken());
      }),
    );
    await restoreSession();
    expect(asked).toBe(false);
    expect(useSession.getState().status).toBe('anonymous');
  });

  it('is a guest when the session has ended', async () => {
    useSession.setState({ status: 'restoring', accessToken: null, user: null });
    document.cookie = 'csrf_token=csrf-1; path=/';
    server.use(http.post('*/api/auth/refresh', () => apiError(401, 'invalid_refresh_token', 'Sign in again.')));
    await restoreSession();
    expect(useSession.getState().status).toBe('anonymous');
  });

  it('carries on as a guest when the shop cannot be reached', async () => {
    useSession.setState({ status: 'restoring', accessToken: null, user: null });
    document.cookie = 'csrf_token=csrf-1; path=/';
    server.use(http.post('*/api/auth/refresh', () => HttpResponse.error()));
    await restoreSession();
    expect(useSession.getState().status).toBe('anonymous');
  });
});
