import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { CellOrderSearch } from '@/api/wire/CellOrderSearch';
import type { ImportJob } from '@/api/wire/ImportJob';
import type { OrderDetail } from '@/api/wire/OrderDetail';
import type { PromotionSnapshot } from '@/api/wire/PromotionSnapshot';
import { anOrder, aProductSnapshot } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderApp, renderWithProviders, signIn } from '@/testing/render';
import { server } from '@/testing/server';

import { AdminOrderPage } from './components/AdminOrderPage';
import { ImportPage } from './components/ImportPage';
import { ProductEditPage } from './components/ProductEditPage';
import { PromotionsPage } from './components/PromotionsPage';

function job(overrides: Partial<ImportJob>): ImportJob {
  return { id: 'imp-1', state: 'running', total: 4, processed: 0, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [], ...overrides };
}

describe('admin', () => {
  it('uploads a CSV import and follows its progress to the end', async () => {
    signIn(['user', 'admin']);
    let contentType: string | null = null;
    let body = '';
    let polls = 0;
    server.use(
      http.post('*/admin/api/imports', async ({ request }) => {
        contentType = request.headers.get('content-type');
        body = await request.text();
        return HttpResponse.json(job({}), { status: 202 });
      }),
      http.get('*/admin/api/imports/imp-1', () => {
        polls += 1;
        return HttpResponse.json(
          polls < 2
            ? job({ processed: 2, created: 2 })
            : job({ state: 'finished', processed: 4, created: 3, failed: 1, errors: [{ row: 5, slug: 'bad', code: 'unknown_brand', message: 'No brand "nope".' }] }),
        );
      }),
    );
    const { user } = renderWithProviders(<ImportPage pollMs={20} />);
    const file = new File(['slug,title\nx,y\n'], 'products.csv', { type: 'text/csv' });
    await user.upload(screen.getByLabelText('File'), file);
    await user.click(screen.getByRole('button', { name: 'Start import' }));

    await waitFor(() => expect(screen.getByText(/Import imp-1/)).toHaveTextContent('finished'));
    expect(screen.getByRole('progressbar', { name: 'Import progress' })).toHaveAttribute('value', '100');
    expect(screen.getByText(/4 of 4 products/)).toHaveTextContent('3 created');
    expect(screen.getByRole('table', { name: 'Rejected rows' })).toHaveTextContent('No brand "nope".');
    expect(contentType).toBe('text/csv');
    expect(body).toBe('slug,title\nx,y\n');
  });

  it('saves an edited product with the version it was read at', async () => {
    signIn(['user', 'admin']);
    let sent: Record<string, unknown> | null = null;
    server.use(
      http.get('*/admin/api/products/1', () => HttpResponse.json(aProductSnapshot())),
      http.put('*/admin/api/products/1', async ({ request }) => {
        sent = (await request.json()) as Record<string, unknown>;
        return HttpResponse.json(aProductSnapshot({ version: 4, title: String(sent.title) }));
      }),
    );
    const { user } = renderWithProviders(<ProductEditPage productId="1" />);
    const title = await screen.findByLabelText('Title');
    await user.clear(title);
    await user.type(title, 'Oxford shirt, slim');
    const price = screen.getByLabelText('Price of variant 1');
    await user.clear(price);
    await user.type(price, '49.50');
    await user.tab();
    await user.click(screen.getByRole('button', { name: 'Save product' }));

    expect(await screen.findByText(/Saved as version 4/)).toBeInTheDocument();
    expect(sent).toMatchObject({
      expected_version: 3,
      slug: 'oxford-shirt-white',
      title: 'Oxford shirt, slim',
      brand: 'harbour-and-finch',
      category: 'shirts',
      tags: ['cotton'],
      variants: [{ sku: 'OXF-WHT-M', price_minor: 4950, currency: 'GBP', stock: null }],
    });
  });

  it('restocks a variant from its ledger', async () => {
    signIn(['user', 'admin']);
    let onHand = 10;
    server.use(
      http.get('*/admin/api/products/1', () => HttpResponse.json(aProductSnapshot())),
      http.get('*/admin/api/stock/OXF-WHT-M', () =>
        HttpResponse.json({ sku: 'OXF-WHT-M', on_hand: onHand, unallocated: onHand - 6, allocated: 4, sold: 2, cells: [{ cell: 'cell-1', allocated: 4, sold: 2 }] }),
      ),
      http.post('*/admin/api/stock/OXF-WHT-M/restock', async ({ request }) => {
        onHand += ((await request.json()) as { quantity: number }).quantity;
        return HttpResponse.json({ sku: 'OXF-WHT-M', on_hand: onHand, unallocated: onHand - 6, allocated: 4, sold: 2, cells: [] });
      }),
    );
    const { user } = renderWithProviders(<ProductEditPage productId="1" />);
    await user.click(await screen.findByRole('button', { name: 'OXF-WHT-M (white, M)' }));
    const panel = await screen.findByRole('region', { name: 'Stock of OXF-WHT-M' });
    await waitFor(() => expect(panel).toHaveTextContent(/On hand\s*10/));
    await user.type(screen.getByLabelText('Units arrived for OXF-WHT-M'), '5');
    await user.click(screen.getByRole('button', { name: 'Restock' }));
    await waitFor(() => expect(panel).toHaveTextContent(/On hand\s*15/));
  });

  it('corrects a count with a reason, and shows a refused loss', async () => {
    signIn(['user', 'admin']);
    let onHand = 10;
    const sent: unknown[] = [];
    server.use(
      http.get('*/admin/api/products/1', () => HttpResponse.json(aProductSnapshot())),
      http.get('*/admin/api/stock/OXF-WHT-M', () =>
        HttpResponse.json({ sku: 'OXF-WHT-M', on_hand: onHand, unallocated: onHand - 6, allocated: 4, sold: 2, cells: [] }),
      ),
      http.post('*/admin/api/stock/OXF-WHT-M/adjust', async ({ request }) => {
        const body = (await request.json()) as { delta: number; reason: string };
        sent.push(body);
        if (onHand - 6 + body.delta < 0) {
          return HttpResponse.json(
            { code: 'insufficient_stock', message: 'Only 4 units are unallocated; a loss comes out of those.' },
            { status: 409 },
          );
        }
        onHand += body.delta;
        return HttpResponse.json({ sku: 'OXF-WHT-M', on_hand: onHand, unallocated: onHand - 6, allocated: 4, sold: 2, cells: [] });
      }),
    );
    const { user } = renderWithProviders(<ProductEditPage productId="1" />);
    await user.click(await screen.findByRole('button', { name: 'OXF-WHT-M (white, M)' }));
    const panel = await screen.findByRole('region', { name: 'Stock of OXF-WHT-M' });
    await waitFor(() => expect(panel).toHaveTextContent(/On hand\s*10/));
    const units = screen.getByLabelText('Units found (+) or lost (−) for OXF-WHT-M');

    // No reason: nothing is sent.
    await user.type(units, '-2');
    await user.click(screen.getByRole('button', { name: 'Correct count' }));
    expect(await screen.findByText('Say why the count changed.')).toBeInTheDocument();
    expect(sent).toEqual([]);

    await user.type(screen.getByLabelText('Reason'), 'Stocktake');
    await user.click(screen.getByRole('button', { name: 'Correct count' }));
    await waitFor(() => expect(panel).toHaveTextContent(/On hand\s*8/));
    expect(sent).toEqual([{ delta: -2, reason: 'Stocktake' }]);

    await user.type(units, '-9');
    await user.type(screen.getByLabelText('Reason'), 'Damaged');
    await user.click(screen.getByRole('button', { name: 'Correct count' }));
    expect(await screen.findByText(/Only 4 units are unallocated/)).toBeInTheDocument();
    expect(panel).toHaveTextContent(/On hand\s*8/);
  });

  it('creates a coupon and lists it', async () => {
    signIn(['user', 'admin']);
    const items: PromotionSnapshot[] = [];
    let sent: Record<string, unknown> | null = null;
    server.use(
      http.get('*/admin/api/promotions', () => HttpResponse.json({ items })),
      http.post('*/admin/api/promotions', async ({ request }) => {
        const body = (await request.json()) as Omit<PromotionSnapshot, 'id' | 'version' | 'cell_caps' | 'updated_at'>;
        sent = body;
        items.push({ ...body, id: 9, version: 1, cell_caps: {}, updated_at: '2026-11-26T10:00:00Z' });
        return HttpResponse.json(items[0], { status: 201 });
      }),
    );
    const { user } = renderWithProviders(<PromotionsPage />);
    await user.click(await screen.findByRole('button', { name: 'New promotion' }));
    await user.type(screen.getByLabelText('Name'), 'Winter sale');
    await user.type(screen.getByLabelText('Coupon code (empty: applies by itself)'), 'winter20');
    const value = screen.getByLabelText('Value');
    await user.clear(value);
    await user.type(value, '20');
    await user.click(screen.getByRole('button', { name: 'Save promotion' }));
    expect(await screen.findByText('WINTER20')).toBeInTheDocument();
    expect(sent).toMatchObject({ name: 'Winter sale', code: 'WINTER20', kind: 'percentage', value: 20, active: true });
  });
});

describe('an order across cells', () => {
  type Sent = { path: string; body: unknown; key: string | null };

  /** One order on cell-2 behind the control plane: each action moves it as the cell would, recording what was sent. */
  function orderBackend(initial: Partial<OrderDetail> = {}) {
    let order = anOrder(initial);
    const sent: Sent[] = [];
    const base = '*/admin/api/cells/cell-2/orders/ord-1';
    const record = async (request: Request) => {
      sent.push({ path: new URL(request.url).pathname, body: await request.json(), key: request.headers.get('idempotency-key') });
    };
    const moved = (to: string, reason: string, changes: Partial<OrderDetail> = {}) => {
      order = { ...order, ...changes, status: to, timeline: [...order.timeline, { from: order.status, to, at: '2026-11-27T09:00:00Z', actor: 'user:u-1', reason }] };
      return HttpResponse.json(order);
    };
    server.use(
      http.get(base, () => HttpResponse.json(order)),
      http.post(`${base}/status`, async ({ request }) => {
        await record(request);
        const body = sent.at(-1)?.body as { status: string; reason: string; tracking: OrderDetail['tracking'] };
        return moved(body.status, body.reason, body.tracking ? { tracking: body.tracking } : {});
      }),
      http.post(`${base}/refunds`, async ({ request }) => {
        await record(request);
        const body = sent.at(-1)?.body as { amount_minor: number; reason: string };
        const refund = { id: `ref-${order.refunds.length + 1}`, amount_minor: body.amount_minor, reason: body.reason, state: 'succeeded', error: null, created_at: '2026-11-27T09:00:00Z' };
        order = { ...order, refunded_minor: order.refunded_minor + body.amount_minor, refunds: [...order.refunds, refund] };
        return HttpResponse.json(order);
      }),
      http.post(`${base}/cancel`, async ({ request }) => {
        await record(request);
        const body = sent.at(-1)?.body as { reason: string };
        return moved('cancelled', body.reason, { cancel_reason: body.reason, refunded: true, refunded_minor: order.total_minor });
      }),
    );
    return sent;
  }

  it('opens an order from the staff search, on the cell that holds it', async () => {
    signIn(['user', 'admin']);
    const search: CellOrderSearch = {
      items: [{ cell: 'cell-2', id: 'ord-1', status: 'confirmed', created_at: '2026-11-26T10:00:00Z', item_count: 1, total_minor: 4895, currency: 'GBP', first_title: 'Oxford shirt', email: 'ada@example.com' }],
      answered: ['cell-1', 'cell-2'],
      unanswered: [],
    };
    server.use(http.get('*/admin/api/orders', () => HttpResponse.json(search)));
    orderBackend();
    const { user, router } = renderApp('/admin/orders');

    await user.click(await screen.findByRole('link', { name: 'ord-1' }));

    expect(router.state.location.pathname).toBe('/admin/orders/cell-2/ord-1');
    expect(await screen.findByRole('heading', { name: 'Order ord-1' })).toBeInTheDocument();
    expect(screen.getByText('Cell').nextElementSibling).toHaveTextContent('cell-2');
    expect(screen.getByText(/1 × Oxford shirt/)).toBeInTheDocument();
    expect(screen.getByText(/payment succeeded/)).toHaveTextContent('system');
    expect(screen.getByText('No refunds by an admin.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Cancel order' })).toBeInTheDocument();
  });

  it('moves a confirmed order to processing, then offers shipping', async () => {
    signIn(['user', 'admin']);
    const sent = orderBackend();
    const { user } = renderWithProviders(<AdminOrderPage cell="cell-2" orderId="ord-1" />);
    const move = await screen.findByRole('form', { name: 'Move the order on' });
    expect(within(move).queryByLabelText('Carrier')).not.toBeInTheDocument();
    await user.type(within(move).getByLabelText(/Reason/), 'picked in the warehouse');
    await user.click(within(move).getByRole('button', { name: 'Mark as processing' }));

    expect(await screen.findByText('Order marked as processing.')).toHaveAttribute('role', 'status');
    expect(sent).toEqual([{ path: '/admin/api/cells/cell-2/orders/ord-1/status', body: { status: 'processing', reason: 'picked in the warehouse', tracking: null }, key: null }]);
    expect(screen.getByText('picked in the warehouse', { exact: false })).toHaveTextContent('user:u-1');
    const next = screen.getByRole('form', { name: 'Move the order on' });
    expect(within(next).getByRole('button', { name: 'Mark as shipped' })).toBeDisabled();
    expect(within(next).getByLabelText(/Reason/)).toHaveValue('');
  });

  it('ships only with a carrier and a tracking number', async () => {
    signIn(['user', 'admin']);
    const sent = orderBackend({ status: 'processing' });
    const { user } = renderWithProviders(<AdminOrderPage cell="cell-2" orderId="ord-1" />);
    const move = await screen.findByRole('form', { name: 'Move the order on' });
    const ship = within(move).getByRole('button', { name: 'Mark as shipped' });
    await user.type(within(move).getByLabelText(/Reason/), 'handed to the carrier');
    expect(ship).toBeDisabled();
    await user.type(within(move).getByLabelText('Carrier'), 'Royal Mail');
    expect(ship).toBeDisabled();
    await user.type(within(move).getByLabelText('Tracking number'), 'RM123456789GB');
    expect(ship).toBeEnabled();
    await user.click(ship);

    expect(await screen.findByRole('link', { name: 'RM123456789GB' })).toBeInTheDocument();
    expect(sent[0]?.body).toEqual({ status: 'shipped', reason: 'handed to the carrier', tracking: { carrier: 'Royal Mail', number: 'RM123456789GB' } });
    expect(screen.getByRole('button', { name: 'Mark as delivered' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel order' })).not.toBeInTheDocument();
  });

  it('refunds at most what is left, each time with a fresh Idempotency-Key', async () => {
    signIn(['user', 'admin']);
    const sent = orderBackend({ status: 'shipped' });
    const { user } = renderWithProviders(<AdminOrderPage cell="cell-2" orderId="ord-1" />);
    const form = await screen.findByRole('form', { name: 'Refund' });
    const amount = within(form).getByLabelText('Amount (GBP)');
    expect(amount).toHaveAccessibleDescription('Up to £48.95');
    await user.type(amount, '60');
    expect(within(form).getByText('At most £48.95 is left to refund.')).toBeInTheDocument();
    expect(amount).toHaveAttribute('aria-invalid', 'true');
    await user.clear(amount);
    await user.type(amount, '10.50');
    await user.type(within(form).getByLabelText('Reason for the refund'), 'late delivery');
    await user.click(within(form).getByRole('button', { name: 'Refund' }));

    expect(await screen.findByText('Refund of £10.50 requested.')).toHaveAttribute('role', 'status');
    const refunds = screen.getByRole('table', { name: 'Refunds, oldest first' });
    expect(refunds).toHaveTextContent('£10.50');
    expect(refunds).toHaveTextContent('late delivery');
    expect(refunds).toHaveTextContent('Succeeded');

    const again = screen.getByRole('form', { name: 'Refund' });
    expect(within(again).getByLabelText('Amount (GBP)')).toHaveAccessibleDescription('Up to £38.45');
    await user.type(within(again).getByLabelText('Amount (GBP)'), '5');
    await user.type(within(again).getByLabelText('Reason for the refund'), 'goodwill');
    await user.click(within(again).getByRole('button', { name: 'Refund' }));
    await waitFor(() => expect(sent).toHaveLength(2));

    expect(sent.map((s) => s.body)).toEqual([
      { amount_minor: 1050, reason: 'late delivery' },
      { amount_minor: 500, reason: 'goodwill' },
    ]);
    const [first, second] = sent.map((s) => s.key);
    expect(first).toMatch(/\S{8,}/);
    expect(second).toMatch(/\S{8,}/);
    expect(first).not.toBe(second);
  });

  it('cancels after a confirmation with a reason, with an Idempotency-Key', async () => {
    signIn(['user', 'admin']);
    const sent = orderBackend();
    const { user } = renderWithProviders(<AdminOrderPage cell="cell-2" orderId="ord-1" />);
    await user.click(await screen.findByRole('button', { name: 'Cancel order' }));
    const dialog = screen.getByRole('dialog', { name: 'Cancel order ord-1?' });
    expect(dialog).toHaveTextContent('£48.95');
    const confirm = within(dialog).getByRole('button', { name: 'Cancel order' });
    expect(confirm).toBeDisabled();
    await user.type(within(dialog).getByLabelText(/Reason/), 'out of stock at the warehouse');
    await user.click(confirm);

    expect(await screen.findByText(/Cancelled: out of stock at the warehouse — refunded in full/)).toBeInTheDocument();
    expect(screen.getByText('Order cancelled.')).toHaveAttribute('role', 'status');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toEqual({ reason: 'out of stock at the warehouse' });
    expect(sent[0]?.key).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Cancel order' })).not.toBeInTheDocument();
  });

  it("shows the cell's refusal of a move, passed on by the control plane", async () => {
    signIn(['user', 'admin']);
    orderBackend();
    server.use(
      http.post('*/admin/api/cells/cell-2/orders/ord-1/status', () =>
        apiError(409, 'order_moved', 'The order was moved on meanwhile (it is cancelled now).'),
      ),
    );
    const { user } = renderWithProviders(<AdminOrderPage cell="cell-2" orderId="ord-1" />);
    const move = await screen.findByRole('form', { name: 'Move the order on' });
    await user.type(within(move).getByLabelText(/Reason/), 'picked');
    await user.click(within(move).getByRole('button', { name: 'Mark as processing' }));

    const alert = await within(move).findByRole('alert');
    expect(alert).toHaveTextContent('Could not move the order on');
    expect(alert).toHaveTextContent('The order was moved on meanwhile (it is cancelled now).');
    expect(alert).toHaveTextContent('order_moved');
  });

  it('says when the cell cannot be reached', async () => {
    signIn(['user', 'admin']);
    server.use(http.get('*/admin/api/cells/cell-9/orders/ord-1', () => apiError(404, 'cell_not_found', 'No cell cell-9 is in the map.')));
    renderWithProviders(<AdminOrderPage cell="cell-9" orderId="ord-1" />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load this order');
    expect(alert).toHaveTextContent('No cell cell-9 is in the map.');
  });
});
