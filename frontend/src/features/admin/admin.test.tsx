import { screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import type { ImportJob } from '@/api/wire/ImportJob';
import type { PromotionSnapshot } from '@/api/wire/PromotionSnapshot';
import { aProductSnapshot } from '@/testing/fixtures';
import { renderWithProviders, signIn } from '@/testing/render';
import { server } from '@/testing/server';

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
