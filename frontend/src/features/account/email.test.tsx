import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { StrictMode } from 'react';
import { describe, expect, it } from 'vitest';

import { formatDate } from '@/lib/format';
import { sharedKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';
import { anEmailChangePending, aUser } from '@/testing/fixtures';
import { apiError, emailChangeHandlers, type EmailChangeCalls } from '@/testing/handlers';
import { renderApp, renderWithProviders, signIn } from '@/testing/render';
import { server } from '@/testing/server';

import { EmailConfirmPage } from './components/EmailConfirmPage';
import { ProfilePage } from './components/ProfilePage';

function recorded(): EmailChangeCalls {
  return { requested: [], confirmed: [] };
}

const CONFIRM = '/account/email/confirm';

/** The confirm page itself (the test harness shows the location in an `<output>`, a status too). */
function confirmPage() {
  return within(screen.getByRole('region', { name: 'Confirm your new e-mail address' }));
}

describe('changing the e-mail address', () => {
  it('asks for a link to the new address and says where it went and until when', async () => {
    signIn();
    const calls = recorded();
    server.use(http.get('*/api/me', () => HttpResponse.json(aUser())), ...emailChangeHandlers(calls));
    const { user } = renderWithProviders(<ProfilePage />);
    const form = await screen.findByRole('form', { name: 'Change e-mail address' });
    await user.type(within(form).getByLabelText('New e-mail address'), 'ada.king@example.com');
    await user.type(within(form).getByLabelText('Password'), 'correct horse battery');
    await user.click(within(form).getByRole('button', { name: 'Send the link' }));

    const status = await within(form).findByRole('status');
    expect(status).toHaveTextContent(
      `We sent a link to ada.king@example.com, valid until ${formatDate(anEmailChangePending().expires_at)}. Nothing changes until you open it.`,
    );
    expect(calls.requested).toEqual([{ email: 'ada.king@example.com', password: 'correct horse battery' }]);
    expect(within(form).getByLabelText('Password')).toHaveValue('');
    // Nothing has changed yet: the account keeps its address until the link is opened.
    expect(useSession.getState().user?.email).toBe('ada@example.com');
  });

  it('shows the server’s message for a wrong password, and forgets the password', async () => {
    signIn();
    server.use(http.get('*/api/me', () => HttpResponse.json(aUser())), ...emailChangeHandlers());
    const { user } = renderWithProviders(<ProfilePage />);
    const form = await screen.findByRole('form', { name: 'Change e-mail address' });
    await user.type(within(form).getByLabelText('New e-mail address'), 'ada.king@example.com');
    await user.type(within(form).getByLabelText('Password'), 'wrong password');
    await user.click(within(form).getByRole('button', { name: 'Send the link' }));

    expect(await within(form).findByRole('alert')).toHaveTextContent('The password is wrong.');
    expect(within(form).queryByRole('status')).not.toBeInTheDocument();
    expect(within(form).getByLabelText('Password')).toHaveValue('');
  });

  it('confirms with the link’s token, once, and shows the new address', async () => {
    signIn();
    const calls = recorded();
    server.use(...emailChangeHandlers(calls));
    // StrictMode renders twice: the page must still send one request only.
    const { user, queryClient } = renderWithProviders(
      <StrictMode>
        <EmailConfirmPage />
      </StrictMode>,
      { path: `${CONFIRM}?token=tok-1` },
    );
    expect(calls.confirmed).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Confirm my new address' }));

    expect(await confirmPage().findByRole('status')).toHaveTextContent('Your e-mail address is now ada.king@example.com.');
    expect(calls.confirmed).toEqual([{ token: 'tok-1' }]);
    expect(useSession.getState().user?.email).toBe('ada.king@example.com');
    expect(queryClient.getQueryData<{ email: string }>(sharedKeys.me)?.email).toBe('ada.king@example.com');
    expect(screen.queryByRole('button', { name: 'Confirm my new address' })).not.toBeInTheDocument();
  });

  it('shows the server’s message for an expired link, with the way to a new one', async () => {
    signIn();
    server.use(...emailChangeHandlers());
    const { user } = renderWithProviders(<EmailConfirmPage />, { path: `${CONFIRM}?token=expired` });
    await user.click(screen.getByRole('button', { name: 'Confirm my new address' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('This link has expired. Ask for a new one from your profile.');
    expect(screen.getByRole('link', { name: 'Ask for a new link from your profile' })).toHaveAttribute('href', '/account');
    // Pressing again could only fail the same way.
    expect(screen.queryByRole('button', { name: /Confirm my new address|Try again/ })).not.toBeInTheDocument();
    expect(useSession.getState().user?.email).toBe('ada@example.com');
  });

  it('offers another try when the shop is busy', async () => {
    signIn();
    let attempts = 0;
    server.use(
      http.post('*/api/me/email/confirm', () => {
        attempts += 1;
        return attempts === 1
          ? apiError(503, 'routing_unavailable', 'The shop cannot move your account right now. Please try again shortly.')
          : HttpResponse.json(aUser({ email: 'ada.king@example.com' }));
      }),
    );
    const { user } = renderWithProviders(<EmailConfirmPage />, { path: `${CONFIRM}?token=tok-1` });
    await user.click(screen.getByRole('button', { name: 'Confirm my new address' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The shop cannot move your account right now.');

    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await confirmPage().findByRole('status')).toHaveTextContent('Your e-mail address is now ada.king@example.com.');
    expect(attempts).toBe(2);
  });

  it('explains a link without a token and sends nothing', async () => {
    signIn();
    const calls = recorded();
    server.use(...emailChangeHandlers(calls));
    renderWithProviders(<EmailConfirmPage />, { path: CONFIRM });

    expect(screen.getByRole('alert')).toHaveTextContent('This link is incomplete');
    expect(screen.queryByRole('button', { name: 'Confirm my new address' })).not.toBeInTheDocument();
    expect(calls).toEqual(recorded());
  });

  it('sends a guest to sign in and back to the link, token and all', async () => {
    const { router } = renderApp(`${CONFIRM}?token=tok-1`);
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(new URLSearchParams(router.state.location.search).get('return_to')).toBe(`${CONFIRM}?token=tok-1`);
  });

  it('opens the confirm page inside the account area', async () => {
    signIn();
    renderApp(`${CONFIRM}?token=tok-1`);
    expect(await screen.findByRole('heading', { name: 'Confirm your new e-mail address' })).toBeInTheDocument();
    expect(screen.getByRole('navigation', { name: 'Account sections' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Confirm my new address' })).toBeInTheDocument();
  });
});
