import type { Stripe, StripeElements, StripeError, StripePaymentElement } from '@stripe/stripe-js';
import { act, screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { CheckoutPayment } from '@/api/wire/CheckoutPayment';
import type { CheckoutView } from '@/api/wire/CheckoutView';
import { cartBackend } from '@/testing/cart-backend';
import { aCartLine, aCheckout, aPayment } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderApp, signIn } from '@/testing/render';
import { server } from '@/testing/server';

import { paymentPolling } from './api/checkout';

// Stripe.js comes from js.stripe.com, which tests cannot reach: the loader
// module the page imports is replaced by a fake Stripe (see `fakeStripe`).
const stripeJs = vi.hoisted(() => ({ loadStripe: vi.fn() }));
vi.mock('@stripe/stripe-js/pure', () => stripeJs);

const OPTIONS = [
  { method: 'standard', name: 'Standard', price_minor: 395, currency: 'GBP', min_days: 2, max_days: 4 },
  { method: 'express', name: 'Express', price_minor: 995, currency: 'GBP', min_days: 1, max_days: 1 },
];

const ADDRESS = { full_name: 'Ada Lovelace', line1: '1 High St', line2: null, city: 'London', region: null, postcode: 'SW1A 1AA', country: 'GB', phone: null };

/** A checkout whose order is placed and whose PaymentIntent waits for a way to pay, as the cell answers `POST …/payment {}`. */
function placed(view: CheckoutView, stripeJs: boolean): CheckoutView {
  return {
    ...view,
    step: 'paying',
    order: { id: 'ord-42', status: 'pending', total_minor: view.total_minor, currency: 'GBP', reserved_until: '2026-11-26T11:00:00Z', cancel_reason: null },
    payment: aPayment({ stripe_js: stripeJs }),
  };
}

/** Ready to pay: address and delivery chosen, no order yet. */
function readyToPay(): CheckoutView {
  const shipping = OPTIONS[0] ?? null;
  const view = aCheckout({ step: 'payment', address: ADDRESS, shipping_options: OPTIONS, shipping, shipping_minor: 395 });
  return { ...view, total_minor: view.subtotal_minor + 395 };
}

const NEEDS_PAYMENT_METHOD = ['requires_payment_method', 'failed'];

/**
 * The checkout API as a little state machine, recording every request body and
 * idempotency key. Like the cell: `POST …/payment` places the order and makes
 * the intent; with a `payment_method` it also pays (the first one declined
 * with `declineFirst`). A payment made with Stripe.js reaches the cell only as
 * Stripe's webhook (`paidInBrowser`), so until the order is confirmed its view
 * still says `requires_payment_method`.
 */
function checkoutBackend({ declineFirst = false, stripeJs = false, initial = aCheckout() }: { declineFirst?: boolean; stripeJs?: boolean; initial?: CheckoutView } = {}) {
  let view: CheckoutView = initial;
  let cardAttempts = 0;
  let polls = 0;
  const state = { paidInBrowser: false };
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
      const payment = view.payment;
      if (view.step === 'paying' && payment && (state.paidInBrowser || !NEEDS_PAYMENT_METHOD.includes(payment.status))) {
        polls += 1;
        if (polls >= 2) {
          view = {
            ...view,
            step: 'completed',
            order: view.order ? { ...view.order, status: 'confirmed' } : null,
            payment: { ...payment, status: 'succeeded', error: null },
          };
        }
      }
      return HttpResponse.json(view);
    }),
    http.post('*/api/checkout/:id/address', async ({ request }) => {
      record(request);
      bodies.address?.push(await request.json());
      view = { ...view, step: 'shipping', address: ADDRESS, shipping_options: OPTIONS };
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
      const body = (await request.json()) as CheckoutPayment;
      bodies.payment?.push(body);
      if (!view.order) view = placed(view, stripeJs);
      const payment = view.payment ?? aPayment({ stripe_js: stripeJs });
      if (body.payment_method) {
        cardAttempts += 1;
        if (declineFirst && cardAttempts === 1) {
          view = { ...view, payment: { ...payment, status: 'failed', error: 'Your card was declined.' } };
          return apiError(402, 'payment_declined', 'Your card was declined.');
        }
        view = { ...view, payment: { ...payment, status: 'processing', error: null } };
      }
      return HttpResponse.json(view);
    }),
  );
  return { bodies, keys, state };
}

type ConfirmResult = { error: StripeError } | { paymentIntent: { id: string; status: string } };

/**
 * A stand-in for Stripe.js: `elements()` makes a Payment Element whose
 * `mount` puts a placeholder in the page and then reports `ready`;
 * `confirmPayment` answers with `results` in turn (then success), and a
 * success is what Stripe's webhook tells `backend` a moment later.
 */
function fakeStripe(backend: { state: { paidInBrowser: boolean } }, results: (ConfirmResult | Promise<ConfirmResult>)[] = [], { autoReady = true } = {}) {
  const handlers: Record<string, (event: unknown) => void> = {};
  const element = {
    on: vi.fn((event: string, handler: (event: unknown) => void) => {
      handlers[event] = handler;
      return element;
    }),
    mount: vi.fn((target: HTMLElement) => {
      const field = document.createElement('p');
      field.textContent = 'Stripe card fields';
      target.append(field);
      if (autoReady) setTimeout(() => handlers.ready?.({ elementType: 'payment' }), 0);
    }),
    destroy: vi.fn(),
  };
  const elements = { create: vi.fn(() => element as unknown as StripePaymentElement) };
  const stripe = {
    elements: vi.fn(() => elements as unknown as StripeElements),
    confirmPayment: vi.fn(async () => {
      const result = await (results.shift() ?? { paymentIntent: { id: 'pi_1', status: 'succeeded' } });
      if ('paymentIntent' in result) backend.state.paidInBrowser = true;
      return result;
    }),
  };
  /** Stripe's frames have loaded (by hand with `autoReady: false`). */
  const ready = () => handlers.ready?.({ elementType: 'payment' });
  return { stripe: stripe as unknown as Stripe, fake: stripe, elements, element, ready };
}

describe('checkout', () => {
  beforeEach(() => {
    paymentPolling.intervalMs = 20;
  });
  afterEach(() => {
    paymentPolling.intervalMs = 1000;
    stripeJs.loadStripe.mockReset();
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

    // 3. Payment: asking for the form places the order; the emulator's cell
    // says so (`stripe_js: false`), so only test cards are taken.
    await user.click(await screen.findByRole('button', { name: 'Enter payment details' }));
    expect(await screen.findByLabelText('Card number')).toHaveFocus();
    expect(screen.queryByRole('button', { name: 'Change address' })).not.toBeInTheDocument();
    await user.type(screen.getByLabelText('Card number'), '4000123456789010');
    await user.type(screen.getByLabelText('Expiry (MM/YY)'), '12/34');
    await user.type(screen.getByLabelText('Security code'), '123');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(await screen.findByText(/use one of the test cards/)).toBeInTheDocument();
    expect(backend.bodies.payment).toEqual([{ payment_method: null }]);

    await user.clear(screen.getByLabelText('Card number'));
    await user.type(screen.getByLabelText('Card number'), '4242424242424242');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(backend.bodies.payment).toEqual([{ payment_method: null }, { payment_method: 'pm_card_visa' }]);

    // 4. Waits for the provider, then confirms.
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'See your order' })).toHaveAttribute('href', '/account/orders/ord-42');

    // Every POST carried its own idempotency key.
    expect(backend.keys).toHaveLength(5);
    expect(new Set(backend.keys).size).toBe(5);
    expect(backend.keys).not.toContain('missing');
    // Stripe.js was never loaded.
    expect(stripeJs.loadStripe).not.toHaveBeenCalled();
  });

  it('shows a declined card and lets the shopper pay again', async () => {
    signIn();
    const backend = checkoutBackend({ declineFirst: true });
    const { user } = renderApp('/checkout/co-1');
    await user.click(await screen.findByRole('button', { name: 'Continue to delivery' }));
    await user.click(await screen.findByRole('button', { name: 'Continue to payment' }));
    await user.click(await screen.findByRole('button', { name: 'Enter payment details' }));
    await user.type(await screen.findByLabelText('Card number'), '4242424242424242');
    await user.type(screen.getByLabelText('Expiry (MM/YY)'), '12/34');
    await user.type(screen.getByLabelText('Security code'), '123');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Your card was declined.');
    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
    expect(backend.bodies.payment).toEqual([{ payment_method: null }, { payment_method: 'pm_card_visa' }, { payment_method: 'pm_card_visa' }]);
  });

  it('shows the test-card form again for an order that waits for its payment (a reload after a decline)', async () => {
    signIn();
    const declined = placed(readyToPay(), false);
    checkoutBackend({ initial: { ...declined, payment: aPayment({ status: 'failed', error: 'Your card was declined.' }) } });
    renderApp('/checkout/co-1');
    expect(await screen.findByLabelText('Card number')).toBeInTheDocument();
    expect(screen.getByText('Last attempt: Your card was declined.')).toBeInTheDocument();
    expect(screen.getByRole('listitem', { current: 'step' })).toHaveTextContent('Payment');
    expect(stripeJs.loadStripe).not.toHaveBeenCalled();
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

describe('checkout with Stripe.js (a cell that talks to Stripe itself)', () => {
  const returnUrl = () => `${window.location.origin}/checkout/co-1`;

  beforeEach(() => {
    paymentPolling.intervalMs = 20;
  });
  afterEach(() => {
    paymentPolling.intervalMs = 1000;
    stripeJs.loadStripe.mockReset();
  });

  it('pays in the Payment Element and waits for the webhook to confirm the order', async () => {
    signIn();
    const backend = checkoutBackend({ stripeJs: true, initial: readyToPay() });
    const stripe = fakeStripe(backend, [], { autoReady: false });
    stripeJs.loadStripe.mockResolvedValue(stripe.stripe);
    const { user } = renderApp('/checkout/co-1');

    await user.click(await screen.findByRole('button', { name: 'Enter payment details' }));
    expect(backend.bodies.payment).toEqual([{ payment_method: null }]);
    const form = await screen.findByRole('form', { name: 'Payment' });
    expect(within(form).getByRole('heading', { name: 'Pay £48.95' })).toHaveFocus();
    // Loading: the button waits for Stripe's fields.
    expect(await within(form).findByText('Stripe card fields')).toBeInTheDocument();
    expect(within(form).getByRole('button', { name: 'Pay now' })).toBeDisabled();
    expect(within(form).getByRole('group', { name: 'Pay £48.95' })).toHaveAttribute('aria-busy', 'true');
    expect(within(form).getByRole('status')).toHaveTextContent('Loading the secure payment form…');
    act(() => stripe.ready());
    expect(within(form).getByRole('button', { name: 'Pay now' })).toBeEnabled();
    expect(within(form).getByRole('group', { name: 'Pay £48.95' })).toHaveAttribute('aria-busy', 'false');
    expect(screen.queryByLabelText('Card number')).not.toBeInTheDocument();

    // Stripe.js with the cell's key, the Payment Element with the intent's secret.
    expect(stripeJs.loadStripe).toHaveBeenCalledWith('pk_test_cellwear');
    expect(stripe.fake.elements).toHaveBeenCalledWith({ clientSecret: 'pi_1_secret_abc', appearance: expect.objectContaining({ theme: 'stripe' }) });
    expect(stripe.elements.create).toHaveBeenCalledWith('payment', expect.anything());
    expect(stripe.element.mount).toHaveBeenCalledWith(screen.getByTestId('stripe-payment-element'));

    await user.click(within(form).getByRole('button', { name: 'Pay now' }));
    expect(stripe.fake.confirmPayment).toHaveBeenCalledWith({
      elements: stripe.fake.elements.mock.results[0]?.value,
      confirmParams: { return_url: returnUrl() },
      redirect: 'if_required',
    });
    // The cell still says `requires_payment_method` until Stripe's webhook:
    // the page waits, polling, and then shows the confirmation.
    expect(await screen.findByText('Waiting for the payment to be confirmed…')).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
    expect(stripe.element.destroy).toHaveBeenCalled();
    // Only the order's placing went to the cell; the card went to Stripe.
    expect(backend.bodies.payment).toEqual([{ payment_method: null }]);
  });

  it("shows Stripe's error and lets the shopper try again", async () => {
    signIn();
    const backend = checkoutBackend({ stripeJs: true, initial: placed(readyToPay(), true) });
    let answer: (result: ConfirmResult) => void = () => undefined;
    const first = new Promise<ConfirmResult>((resolve) => {
      answer = resolve;
    });
    const stripe = fakeStripe(backend, [first]);
    stripeJs.loadStripe.mockResolvedValue(stripe.stripe);
    const { user } = renderApp('/checkout/co-1');

    const pay = await screen.findByRole('button', { name: 'Pay now' });
    await waitFor(() => expect(pay).toBeEnabled());
    await user.click(pay);
    // Busy while Stripe confirms: no second click.
    expect(pay).toBeDisabled();
    expect(pay).toHaveAttribute('aria-busy', 'true');
    expect(screen.getByText('Confirming your payment…')).toHaveAttribute('aria-live', 'polite');
    answer({ error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Payment failed');
    expect(alert).toHaveTextContent('Your card has insufficient funds.');
    expect(screen.getByRole('button', { name: 'Pay now' })).toBeEnabled();
    expect(screen.queryByText('Waiting for the payment to be confirmed…')).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Pay now' }));
    expect(stripe.fake.confirmPayment).toHaveBeenCalledTimes(2);
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
  });

  it('says so when Stripe.js does not load, and loads it again on "Try again"', async () => {
    signIn();
    const backend = checkoutBackend({ stripeJs: true, initial: placed(readyToPay(), true) });
    const stripe = fakeStripe(backend);
    stripeJs.loadStripe
      .mockRejectedValueOnce(new Error('Failed to load Stripe.js'))
      .mockResolvedValueOnce(null)
      .mockResolvedValue(stripe.stripe);
    const { user } = renderApp('/checkout/co-1');

    const first = await screen.findByRole('alert');
    expect(first).toHaveTextContent('The payment form did not load');
    expect(first).toHaveTextContent(/could not be loaded from Stripe/);
    expect(screen.getByRole('button', { name: 'Pay now' })).toBeDisabled();

    await user.click(within(first).getByRole('button', { name: 'Try again' }));
    // No Stripe here at all (`loadStripe` gave null): the same error.
    expect(await screen.findByRole('alert')).toHaveTextContent('The payment form did not load');
    await user.click(within(screen.getByRole('alert')).getByRole('button', { name: 'Try again' }));

    await waitFor(() => expect(screen.getByRole('button', { name: 'Pay now' })).toBeEnabled());
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Pay £48.95' })).toHaveFocus();
    expect(stripeJs.loadStripe).toHaveBeenCalledTimes(3);
    expect(stripe.element.mount).toHaveBeenCalledTimes(1);
  });

  it('waits for the confirmation when Stripe sends the shopper back from 3-D Secure', async () => {
    signIn();
    const backend = checkoutBackend({ stripeJs: true, initial: placed(readyToPay(), true) });
    // The bank's page took the payment; Stripe's webhook is on its way.
    backend.state.paidInBrowser = true;
    renderApp('/checkout/co-1?payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_abc&redirect_status=succeeded');

    expect(await screen.findByText('Waiting for the payment to be confirmed…')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Pay now' })).not.toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
    expect(stripeJs.loadStripe).not.toHaveBeenCalled();
  });

  it('shows the payment form with an error when the 3-D Secure redirect failed', async () => {
    signIn();
    const backend = checkoutBackend({ stripeJs: true, initial: placed(readyToPay(), true) });
    const stripe = fakeStripe(backend);
    stripeJs.loadStripe.mockResolvedValue(stripe.stripe);
    const { user } = renderApp('/checkout/co-1?payment_intent=pi_1&payment_intent_client_secret=pi_1_secret_abc&redirect_status=failed');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Payment failed');
    expect(alert).toHaveTextContent(/was not completed/);
    const pay = screen.getByRole('button', { name: 'Pay now' });
    await waitFor(() => expect(pay).toBeEnabled());
    await user.click(pay);
    expect(await screen.findByRole('heading', { name: /your order is confirmed/i }, { timeout: 5000 })).toBeInTheDocument();
  });
});
