import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { anAuditPage, aProductSnapshot, someCells } from '@/testing/fixtures';
import { renderApp, signIn } from '@/testing/render';
import { server } from '@/testing/server';

describe('role-gated pages', () => {
  it('sends a guest to sign in, keeping where they were going', async () => {
    const { router } = renderApp('/admin');
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?return_to=%2Fadmin');
  });

  it('hides the admin pages and links from a shopper', async () => {
    signIn(['user']);
    renderApp('/admin');
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Admin' })).not.toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Staff' })).not.toBeInTheDocument();
  });

  it('shows the admin pages to an admin, but not the SRE pages', async () => {
    signIn(['user', 'admin']);
    server.use(http.get('*/admin/api/products', () => HttpResponse.json({ items: [aProductSnapshot()], next_cursor: null })));
    renderApp('/admin');
    expect(await screen.findByRole('link', { name: 'Oxford shirt' })).toHaveAttribute('href', '/admin/products/1');
    const staff = screen.getByRole('navigation', { name: 'Staff' });
    expect(staff).toHaveTextContent('Admin');
    expect(staff).not.toHaveTextContent('Cells');
  });

  it('shows the control plane to an SRE only', async () => {
    signIn(['user', 'sre']);
    server.use(http.get('*/control/api/cells', () => HttpResponse.json(someCells())));
    renderApp('/control');
    expect(await screen.findByText('Routing table version 7')).toBeInTheDocument();
  });

  it('refuses the control plane to an admin without the sre role', async () => {
    signIn(['user', 'admin']);
    renderApp('/control');
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
  });

  it('shows the audit log to admins and SREs, from the staff links', async () => {
    server.use(
      http.get('*/control/api/audit', () => HttpResponse.json(anAuditPage())),
      http.get('*/admin/api/orders', () => HttpResponse.json({ items: [], answered: [], unanswered: [] })),
    );
    signIn(['user', 'admin']);
    const { user } = renderApp('/admin/orders');
    await user.click(within(screen.getByRole('navigation', { name: 'Staff' })).getByRole('link', { name: 'Audit log' }));
    expect(await screen.findByRole('rowheader', { name: 'cell.drain' })).toBeInTheDocument();
    expect(within(screen.getByRole('navigation', { name: 'Control plane sections' })).queryByRole('link', { name: 'Cells' })).not.toBeInTheDocument();
  });

  it('hides the audit log from a shopper', async () => {
    signIn(['user']);
    renderApp('/control/audit');
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
  });
});
