import { screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { cartBackend } from '@/testing/cart-backend';
import { aCartLine, aToken, aUser } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderApp } from '@/testing/render';
import { server } from '@/testing/server';
import { useSession } from '@/lib/session';

describe('sign-in', () => {
  it('registers, signs in, keeps the guest cart and returns where the shopper was', async () => {
    const backend = cartBackend([aCartLine({ quantity: 2, line_total_minor: 9000 })]);
    const calls: string[] = [];
    server.use(
      ...backend.handlers,
      http.post('*/api/auth/register', async ({ request }) => {
        calls.push('register');
        const body = (await request.json()) as { email: string; name: string };
        return HttpResponse.json(aUser({ email: body.email, name: body.name }), { status: 201 });
      }),
      http.post('*/api/auth/login', async ({ request }) => {
        calls.push('login');
        const body = (await request.json()) as { email: string };
        // The cell merges the guest's cart into the account's at sign-in.
        backend.replace(backend.lines().map((line) => ({ ...line, quantity: 3, line_total_minor: 13500 })));
        return HttpResponse.json(aToken('token-new', aUser({ email: body.email, name: 'Grace' })));
      }),
    );
    const { user, router } = renderApp('/register?return_to=%2Fcart');
    await waitFor(() => expect(screen.getByRole('link', { name: /^cart/i })).toHaveTextContent('2'));

    await user.type(screen.getByLabelText('Name'), 'Grace');
    await user.type(screen.getByLabelText('E-mail'), 'grace@example.com');
    await user.type(screen.getByLabelText('Password'), 'a long enough password');
    await user.click(screen.getByRole('button', { name: 'Create account' }));

    await waitFor(() => expect(router.state.location.pathname).toBe('/cart'));
    expect(calls).toEqual(['register', 'login']);
    expect(useSession.getState()).toMatchObject({ status: 'authenticated', accessToken: 'token-new' });
    // The cart is read again as the account's, merged.
    await waitFor(() => expect(screen.getByRole('link', { name: /^cart/i })).toHaveTextContent('3'));
    expect(screen.getByRole('button', { name: /account menu for grace/i })).toBeInTheDocument();
  });

  it('shows why a sign-in failed', async () => {
    server.use(http.post('*/api/auth/login', () => apiError(401, 'invalid_credentials', 'The e-mail or password is wrong.')));
    const { user } = renderApp('/login');
    await user.type(screen.getByLabelText('E-mail'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'not the password');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The e-mail or password is wrong.');
    expect(useSession.getState().status).toBe('anonymous');
  });

  it('signs out with the CSRF header and forgets the session', async () => {
    useSession.setState({ status: 'authenticated', accessToken: 't', user: aUser() });
    document.cookie = 'csrf_token=csrf-xyz; path=/';
    let csrf: string | null = null;
    server.use(
      http.post('*/api/auth/logout', ({ request }) => {
        csrf = request.headers.get('x-csrf-token');
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const { user } = renderApp('/');
    await user.click(screen.getByRole('button', { name: /account menu/i }));
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(useSession.getState().status).toBe('anonymous'));
    expect(csrf).toBe('csrf-xyz');
    expect(await screen.findByRole('link', { name: 'Sign in' })).toBeInTheDocument();
  });
});
