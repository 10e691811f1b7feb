import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { AddressResponse } from '@/api/wire/AddressResponse';
import { useSession } from '@/lib/session';
import { aUser } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderWithProviders, signIn } from '@/testing/render';
import { server } from '@/testing/server';

import { AddressesPage } from './components/AddressesPage';
import { ProfilePage } from './components/ProfilePage';
import { SessionsPage } from './components/SessionsPage';

describe('account', () => {
  it('renames the account and updates the header’s user', async () => {
    signIn();
    server.use(
      http.get('*/api/me', () => HttpResponse.json(aUser())),
      http.patch('*/api/me', async ({ request }) => HttpResponse.json(aUser({ name: ((await request.json()) as { name: string }).name }))),
    );
    const { user } = renderWithProviders(<ProfilePage />);
    const name = await screen.findByLabelText('Name');
    await user.clear(name);
    await user.type(name, 'Ada King');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Saved.')).toBeInTheDocument();
    expect(useSession.getState().user?.name).toBe('Ada King');
  });

  it('shows a refused password change', async () => {
    signIn();
    server.use(
      http.get('*/api/me', () => HttpResponse.json(aUser())),
      http.post('*/api/me/password', () => apiError(403, 'wrong_password', 'The current password is wrong.')),
    );
    const { user } = renderWithProviders(<ProfilePage />);
    await user.type(await screen.findByLabelText('Current password'), 'not it at all');
    await user.type(screen.getByLabelText('New password'), 'a brand new passphrase');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The current password is wrong.');
  });

  it('adds an address and shows the server’s validation message', async () => {
    signIn();
    let addresses: AddressResponse[] = [];
    server.use(
      http.get('*/api/me/addresses', () => HttpResponse.json({ addresses })),
      http.post('*/api/me/addresses', async ({ request }) => {
        const body = (await request.json()) as Omit<AddressResponse, 'id' | 'is_default'>;
        if (body.postcode === 'nope') return apiError(422, 'invalid_address', 'postcode: not a GB postcode');
        const created = { ...body, id: 'addr-1', is_default: true };
        addresses = [created];
        return HttpResponse.json(created, { status: 201 });
      }),
    );
    const { user } = renderWithProviders(<AddressesPage />);
    expect(await screen.findByText('No saved addresses yet.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Add an address' }));
    const form = screen.getByRole('form', { name: 'New address' });
    await user.type(within(form).getByLabelText('Full name'), 'Ada Lovelace');
    await user.type(within(form).getByLabelText('Address line 1'), '1 High St');
    await user.type(within(form).getByLabelText('Town or city'), 'London');
    await user.type(within(form).getByLabelText('Postcode'), 'nope');
    await user.click(within(form).getByRole('button', { name: 'Save address' }));
    expect(await within(form).findByRole('alert')).toHaveTextContent('postcode: not a GB postcode');

    await user.clear(within(form).getByLabelText('Postcode'));
    await user.type(within(form).getByLabelText('Postcode'), 'SW1A 1AA');
    await user.click(within(form).getByRole('button', { name: 'Save address' }));
    await waitFor(() => expect(screen.queryByRole('form', { name: 'New address' })).not.toBeInTheDocument());
    expect(await screen.findByText('Default')).toBeInTheDocument();
  });

  it('signs another session out', async () => {
    signIn();
    let sessions = [
      { id: 's-1', device: 'Firefox', ip: '10.0.0.1', created_at: 1764150000, last_used_at: 1764150000, current: true },
      { id: 's-2', device: 'Safari', ip: '10.0.0.2', created_at: 1764150000, last_used_at: 1764150000, current: false },
    ];
    const revoked: string[] = [];
    server.use(
      http.get('*/api/me/sessions', () => HttpResponse.json({ sessions })),
      http.delete('*/api/me/sessions/:id', ({ params }) => {
        revoked.push(String(params.id));
        sessions = sessions.filter((s) => s.id !== params.id);
        return new HttpResponse(null, { status: 204 });
      }),
    );
    const { user } = renderWithProviders(<SessionsPage />);
    expect(await screen.findByText('This device')).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: /^Sign out the session/ })).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Sign out the session from 10.0.0.2' }));
    await waitFor(() => expect(screen.queryByText('Safari')).not.toBeInTheDocument());
    expect(revoked).toEqual(['s-2']);
  });
});
