import type { Appearance, Stripe } from '@stripe/stripe-js';

/**
 * Stripe.js, for cells that talk to Stripe itself (`PaymentView.stripe_js`).
 *
 * The loader is imported on first use (its own chunk), and its `pure` entry
 * adds js.stripe.com's script only when `loadStripe` is called: shoppers on
 * the emulator, and every other page, never load either.
 */

/** Stripe.js could not be loaded: offline, blocked (CSP, an extension), or js.stripe.com down. */
export class StripeUnavailable extends Error {
  override name = 'StripeUnavailable';
}

/** A ready Stripe instance for `publishableKey`; rejects with {@link StripeUnavailable}. */
export async function loadStripeJs(publishableKey: string): Promise<Stripe> {
  let stripe: Stripe | null;
  try {
    const { loadStripe } = await import('@stripe/stripe-js/pure');
    stripe = await loadStripe(publishableKey);
  } catch (cause) {
    throw new StripeUnavailable('Stripe.js did not load', { cause });
  }
  // `null` where there is no `window` (never in a browser), but typed so.
  if (!stripe) throw new StripeUnavailable('Stripe.js is not available here');
  return stripe;
}

/** Stripe's fields in the shop's stone/ink palette (tailwind.config.js). */
export const stripeAppearance: Appearance = {
  theme: 'stripe',
  variables: {
    colorPrimary: '#1f3a5f',
    colorBackground: '#ffffff',
    colorText: '#1a1a1a',
    colorTextSecondary: '#4f4a42',
    colorTextPlaceholder: '#8a8377',
    colorDanger: '#991b1b',
    fontFamily: "ui-sans-serif, system-ui, -apple-system, 'Segoe UI', sans-serif",
    fontSizeBase: '14px',
    borderRadius: '4px',
  },
  rules: {
    '.Input': { borderColor: '#8a8377', boxShadow: 'none' },
    '.Input:focus': { borderColor: '#1f3a5f', boxShadow: '0 0 0 2px #1f3a5f' },
    '.Label': { color: '#1a1a1a', fontWeight: '500' },
    '.Tab': { borderColor: '#e4e0d8' },
    '.Tab--selected': { borderColor: '#1f3a5f' },
  },
};

/**
 * Where Stripe sent the shopper back after a redirect (3-D Secure, a bank's
 * page): it adds `payment_intent`, `payment_intent_client_secret` and
 * `redirect_status` to the `return_url`.
 */
export type StripeReturn = { intent: string; status: string };

export function stripeReturnOf(params: URLSearchParams): StripeReturn | null {
  const intent = params.get('payment_intent');
  const status = params.get('redirect_status');
  return intent && status ? { intent, status } : null;
}
