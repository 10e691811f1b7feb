import { useState } from 'react';
import { useHref } from 'react-router-dom';

import type { CheckoutView } from '@/api/wire/CheckoutView';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { formatMoney } from '@/lib/format';

import { useSubmitPayment } from '../api/checkout';

import { StripeElementsForm } from './StripeElementsForm';
import { TestCardForm } from './TestCardForm';

type Props = {
  view: CheckoutView;
  /** The shopper came back from a redirect (3-D Secure) that did not pay. */
  redirectFailed?: boolean;
  /** Stripe.js confirmed this intent in the page: wait for the webhook. */
  onConfirmed: (intent: string) => void;
};

const REDIRECT_FAILED =
  'The payment was not completed: the check with your bank did not succeed or was cancelled, and nothing was charged. Try again, or choose another card or way to pay.';

/**
 * Step 3. Until the order is placed the cell has no PaymentIntent, and only
 * the intent says how this cell takes cards (`payment.stripe_js`): so the
 * shopper first asks for the payment form, which places the order (its stock
 * held) and makes the intent. Then Stripe's own fields (Stripe.js) with real
 * Stripe, or the test-card form with the emulator.
 */
export function PaymentStep({ view, redirectFailed = false, onConfirmed }: Props) {
  // Asked for the form on this page: it takes the focus when it shows.
  const [asked, setAsked] = useState(false);
  const returnUrl = new URL(useHref(`/checkout/${encodeURIComponent(view.id)}`), window.location.origin).href;
  const payment = view.payment;
  const amount = `Pay ${formatMoney(view.total_minor, view.currency)}`;

  if (!payment) return <StartPayment view={view} amountLabel={amount} onAsk={() => setAsked(true)} />;
  if (!payment.stripe_js) return <TestCardForm view={view} autoFocus={asked} />;
  return (
    <StripeElementsForm
      publishableKey={payment.publishable_key}
      clientSecret={payment.client_secret}
      returnUrl={returnUrl}
      amountLabel={amount}
      lastError={payment.error ?? undefined}
      initialError={redirectFailed ? REDIRECT_FAILED : undefined}
      autoFocus={asked}
      onConfirmed={() => onConfirmed(payment.intent)}
    />
  );
}

/** Places the order and makes its PaymentIntent (`POST …/payment` without a payment method). */
function StartPayment({ view, amountLabel, onAsk }: { view: CheckoutView; amountLabel: string; onAsk: () => void }) {
  const start = useSubmitPayment(view.id);
  return (
    <div role="group" aria-label="Payment" className="space-y-4">
      <p className="font-semibold">{amountLabel}</p>
      <p className="text-sm text-stone-700">
        Next you enter your payment details. From then on your items are held for you while you pay, and the address and delivery can no longer be changed.
      </p>
      {start.isError ? <ErrorMessage error={start.error} title="The payment could not start" /> : null}
      <Button
        busy={start.isPending}
        onClick={() => {
          onAsk();
          start.mutate({ payment_method: null });
        }}
      >
        Enter payment details
      </Button>
    </div>
  );
}
