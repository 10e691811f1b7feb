import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { anOrder } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderWithProviders, signIn } from '@/testing/render';
import { server } from '@/testing/server';

import { OrderDetailPage } from './components/OrderDetailPage';
import { OrdersPage } from './components/OrdersPage';

describe('orders', () => {
  it('filters the history and pages on with the cursor', async () => {
    signIn();
    const seen: URLSearchParams[] = [];
    server.use(
      http.get('*/api/orders', ({ request }) => {
        const params = new URL(request.url).searchParams;
        seen.push(params);
        if (params.get('cursor') === 'c2') {
          return HttpResponse.json({ items: [{ id: 'ord-3', status: 'delivered', created_at: '2026-11-01T10:00:00Z', item_count: 1, total_minor: 1000, currency: 'GBP', first_title: 'Scarf' }], next_cursor: null });
        }
        return HttpResponse.json({
          items: [{ id: 'ord-2', status: 'shipped', created_at: '2026-11-20T10:00:00Z', item_count: 3, total_minor: 12000, currency: 'GBP', first_title: 'Coat' }],
          next_cursor: 'c2',
        });
      }),
    );
    const { user } = renderWithProviders(<OrdersPage />);
    const list = await screen.findByRole('list', { name: 'Your orders' });
    expect(list).toHaveTextContent('Coat and 2 more');
    expect(list).toHaveTextContent('£120.00');

    await user.click(screen.getByRole('button', { name: 'Show more' }));
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(2));
    expect(seen.at(-1)?.get('cursor')).toBe('c2');

    await user.selectOptions(screen.getByLabelText('Status'), 'shipped');
    await user.type(screen.getByLabelText('Product, SKU or order id'), 'coat');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(seen.at(-1)?.get('status')).toBe('shipped'));
    expect(seen.at(-1)?.get('q')).toBe('coat');
    expect(seen.at(-1)?.get('cursor')).toBeNull();
  });

  it('shows the timeline and cancels after a confirmation', async () => {
    signIn();
    let order = anOrder();
    const cancels: unknown[] = [];
    server.use(
      http.get('*/api/orders/ord-1', () => HttpResponse.json(order)),
      http.post('*/api/orders/ord-1/cancel', async ({ request }) => {
        cancels.push(await request.json());
        order = anOrder({
          status: 'cancelled',
          cancel_reason: 'cancelled by the shopper',
          refunded: true,
          timeline: [...order.timeline, { from: 'confirmed', to: 'cancelled', at: '2026-11-26T10:10:00Z', actor: 'user:u-1', reason: 'cancelled by the shopper' }],
        });
        return HttpResponse.json(order);
      }),
    );
    const { user } = renderWithProviders(<OrderDetailPage orderId="ord-1" />);
    expect(await screen.findByRole('heading', { name: 'Order ord-1' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Download invoice CW-CELL-1-00000001' })).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Cancel order' }));
    const dialog = screen.getByRole('dialog', { name: 'Cancel this order?' });
    expect(dialog).toHaveTextContent('£48.95');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel order' }));

    expect(await screen.findByText(/refunded in full/)).toBeInTheDocument();
    expect(cancels).toEqual([{ reason: null }]);
    expect(screen.queryByRole('button', { name: 'Cancel order' })).not.toBeInTheDocument();
  });

  it('shows why an invoice cannot be downloaded', async () => {
    signIn();
    server.use(
      http.get('*/api/orders/ord-1', () => HttpResponse.json(anOrder())),
      http.get('*/api/orders/ord-1/invoice', () =>
        apiError(409, 'invoice_not_issued', 'The order is not paid yet.'),
      ),
    );
    const { user } = renderWithProviders(<OrderDetailPage orderId="ord-1" />);
    await user.click(await screen.findByRole('button', { name: /Download invoice/ }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The order is not paid yet.');
    expect(alert).toHaveTextContent('invoice_not_issued');
  });
});
