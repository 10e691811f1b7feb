import { screen, waitFor } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { CheckoutView } from '@/api/wire/CheckoutView';
import { cartBackend } from '@/testing/cart-backend';
import { aCartLine, aCheckout } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderApp, signIn } from '@/testing/render';
import { server } from '@/testing/server';

import { paymentPolling } from './api/checkout';

const OPTIONS = [
  { method: 'standard', name: 'Standard', price_minor: 395, currency: 'GBP', min_days: 2, max_days: 4 },
  { method: 'express', name: 'Express', price_minor: 995, currency: 'GBP', min_days: 1, max_days: 1 },
];

/** The checkout API as a little state machine, recording every request body and idempotency key. */
function checkoutBackend({ declineFirst = false } = {}) {
  let view: CheckoutView = aCheckout();
  let payments = 0;
  let polls = 0;
  const bodies: Record<string, unknown[]> = { address: [], shipping: [], payment: [] };
  const keys: string[] = [];
  const record = (request: Request) => keys.push(request.headers.get('idempotency-key') ?? 'missing');
  server.use(
    http.get('*/api/me/addresses', () =>
      HttpResponse.json({
        addresses: [
          { id: 'addr-1', full_name: 'Ada Lovelace', line1: '1 High St', line2: null, city: 'London', region: null, postcode: 'SW1A 1AA', country: 'GB', phone: null, is_default: true },
        ],
      }),
    ),
    http.post('*/api/checkout', ({ request }) => {
      record(request);
      return HttpResponse.json(view, { status: 201 });
    }),
    http.get('*/api/checkout/:id', () => {
      if (view.step === 'paying') {
        polls += 1;
        if (polls >= 2) view = { ...view, step: 'completed', order: view.order ? { ...view.order, status: 'confirmed' } : null };
      }
      return HttpResponse.json(view);
    }),
    http.post('*/api/checkout/:id/address', async ({ request }) => {
      record(request);
      bodies.address?.push(await request.json());
      view = {
        ...view,
        step: 'shipping',
        address: { full_name: 'Ada Lovelace', line1: '1 High St', line2: null, city: 'London', region: null, postcode: 'SW1A 1AA', country: 'GB', phone: null },
        shipping_options: OPTIONS,
      };
      return HttpResponse.json(view);
    }),
    http.post('*/api/checkout/:id/shipping', async ({ request }) => {
      record(request);
      const body = (await request.json()) as { method: string };
      bodies.shipping?.push(body);
      const shipping = OPTIONS.find((o) => o.method === body.method) ?? null;
      view = { ...view, step: 'payment', shipping, shipping_minor: shipping?.price_minor ?? 0, total_minor: view.subtotal_minor + (shipping?.price_minor ?? 0) };
      return HttpResponse.json(view);
    }),
    http.post('*/api/checkout/:id/payment', async ({ request }) => {
      record(request);
      bodies.payment?.push(await request.json());
      payments += 1;
      if (declineFirst && payments === 1) return apiError(402, 'payment_declined', 'Your card was declined.');
      view = {
        ...view,
        step: 'paying',
        order: { id: 'ord-42', status: 'pending', total_minor: view.total_minor, currency: 'GBP', reserved_until: '2026-11-26T11:00:00Z', cancel_reason: null },
        payment: { provider: 'stripe', intent: 'pi_1', client_secret: 'pi_1_secret', publishable_key: 'pk_test', status: 'processing', error: null },
      };
      return HttpResponse.json(view);
    }),
  );
  return { bodies, keys };
}

describe('checkout', () => {
  beforeEach(() => {
    paymentPolling.intervalMs = 20;
  });
  afterEach(() => {
    paymentPolling.intervalMs = 1000;
  });

  it('walks address → delivery → payment → confirmation', async () => {
    signIn();
    server.use(...cartBackend([aCartLine()]).handlers);
    const backend = checkoutBackend();
    const { user, router } = renderApp('/cart');

    await user.click(await screen.findByRole('button', { name: 'Check out' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/checkout/co-1'));

    // 1. The default saved address is preselected.
    expect(await screen.findByRole('radio', { name: /1 High St/ })).toBeChecked();
    expect(screen.getByRole('listitem', { current: 'step' })).toHaveTextContent('Address');
    await user.click(screen.getByRole('button', { name: 'Continue to delivery' }));
    expect(backend.bodies.address).toEqual([{ address_id: 'addr-1', address: null, save: false }]);

    // 2. Delivery.
    await user.click(await screen.findByRole('radio', { name: /Express/ }));
    await user.click(screen.getByRole('button', { name: 'Continue to payment' }));
    expect(backend.bodies.shipping).toEqual([{ method: 'express' }]);

    // 3. Payment: only test cards are taken.
    await user.type(await screen.findByLabelText('Card number'), '4000123456789010');
    await user.type(screen.getByLabelText('Expiry (MM/YY)'), '12/34');
    await user.type(screen.getByLabelText('Security code'), '123');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(await screen.findByText(/use one of the test cards/)).toBeInTheDocument();
    expect(backend.bodies.payment).toEqual([]);

    await user.clear(screen.getByLabelText('Card number'));
    await user.type(screen.getByLabelText('Card number'), '4242424242424242');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(backend.bodies.payment).toEqual([{ payment_method: 'pm_card_visa' }]);

    // 4. Waits for the provider, then confirms.
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'See your order' })).toHaveAttribute('href', '/account/orders/ord-42');

    // Every POST carried its own idempotency key.
    expect(backend.keys).toHaveLength(4);
    expect(new Set(backend.keys).size).toBe(4);
    expect(backend.keys).not.toContain('missing');
  });

  it('shows a declined card and lets the shopper pay again', async () => {
    signIn();
    const backend = checkoutBackend({ declineFirst: true });
    const { user } = renderApp('/checkout/co-1');
    await user.click(await screen.findByRole('button', { name: 'Continue to delivery' }));
    await user.click(await screen.findByRole('button', { name: 'Continue to payment' }));
    await user.type(await screen.findByLabelText('Card number'), '4242424242424242');
    await user.type(screen.getByLabelText('Expiry (MM/YY)'), '12/34');
    await user.type(screen.getByLabelText('Security code'), '123');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Your card was declined.');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
    expect(backend.bodies.payment).toHaveLength(2);
  });

  it('sends a new address with "save" to the address step', async () => {
    signIn();
    const backend = checkoutBackend();
    server.use(http.get('*/api/me/addresses', () => HttpResponse.json({ addresses: [] })));
    const { user } = renderApp('/checkout/co-1');
    expect(await screen.findByRole('radio', { name: 'A new address' })).toBeChecked();
    await user.type(screen.getByLabelText('Full name'), 'Ada Lovelace');
    await user.type(screen.getByLabelText('Address line 1'), '1 High St');
    await user.type(screen.getByLabelText('Town or city'), 'London');
    await user.type(screen.getByLabelText('Postcode'), 'SW1A 1AA');
    await user.click(screen.getByRole('button', { name: 'Continue to delivery' }));
    await screen.findByRole('button', { name: 'Continue to payment' });
    expect(backend.bodies.address).toEqual([
      {
        address_id: null,
        address: { full_name: 'Ada Lovelace', line1: '1 High St', line2: null, city: 'London', region: null, postcode: 'SW1A 1AA', country: 'GB', phone: null, is_default: null },
        save: true,
      },
    ]);
  });
});
