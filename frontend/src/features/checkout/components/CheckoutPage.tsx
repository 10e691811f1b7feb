import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';

import type { CheckoutView } from '@/api/wire/CheckoutView';
import { AddressLines } from '@/components/AddressFields';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { Spinner } from '@/components/ui/Spinner';
import { formatMoney } from '@/lib/format';

import { useCheckout } from '../api/checkout';
import { stripeReturnOf, type StripeReturn } from '../api/stripe';

import { AddressStep } from './AddressStep';
import { PaymentStep } from './PaymentStep';
import { ShippingStep } from './ShippingStep';

const STEPS = [
  ['address', 'Address'],
  ['shipping', 'Delivery'],
  ['payment', 'Payment'],
  ['completed', 'Confirmation'],
] as const;
type StepName = (typeof STEPS)[number][0];

function stepIndex(step: string): number {
  const normalised = step === 'paying' ? 'payment' : step === 'cancelled' ? 'completed' : step;
  return Math.max(0, STEPS.findIndex(([name]) => name === normalised));
}

/** Intent statuses in which the shopper still has to give a (new) way to pay. */
const NEEDS_PAYMENT_METHOD = new Set(['requires_payment_method', 'failed']);

/**
 * What a `paying` checkout (its order placed, its stock held) shows: the
 * payment form while the shopper still has to pay, or the wait for the
 * provider's confirmation. The cell learns of a payment made with Stripe.js
 * only from Stripe's webhook, so until then its view still says
 * `requires_payment_method`; the page knows better when Stripe.js confirmed
 * here (`confirmed`) or Stripe sent the shopper back from a redirect
 * (`returned`, from the query string).
 */
function payingShows(view: CheckoutView, confirmed: string | null, returned: StripeReturn | null): 'payment' | 'paying' {
  const payment = view.payment;
  // Placed, but making its intent failed: asking again makes it.
  if (!payment) return 'payment';
  if (confirmed === payment.intent) return 'paying';
  if (returned?.intent === payment.intent) return returned.status === 'failed' ? 'payment' : 'paying';
  return NEEDS_PAYMENT_METHOD.has(payment.status) ? 'payment' : 'paying';
}

function Progress({ current }: { current: number }) {
  return (
    <ol aria-label="Checkout steps" className="mb-6 flex flex-wrap gap-2 text-sm">
      {STEPS.map(([name, label], index) => (
        <li
          key={name}
          aria-current={index === current ? 'step' : undefined}
          className={`rounded-full px-3 py-1 ${index === current ? 'bg-accent text-white' : index < current ? 'bg-stone-200' : 'border border-stone-200 text-stone-700'}`}
        >
          {index + 1}. {label}
        </li>
      ))}
    </ol>
  );
}

function Summary({ view }: { view: CheckoutView }) {
  return (
    <aside aria-label="Order summary" className="space-y-3 rounded border border-stone-200 bg-white p-4 text-sm">
      <ul className="space-y-1">
        {view.cart.items.map((line) => (
          <li key={line.sku} className="flex justify-between gap-2">
            <span>
              {line.quantity} × {line.title} <span className="capitalize text-stone-700">({line.colour}, {line.size})</span>
            </span>
            <span>{formatMoney(line.line_total_minor, line.currency)}</span>
          </li>
        ))}
      </ul>
      <dl className="space-y-1 border-t border-stone-200 pt-2">
        <div className="flex justify-between">
          <dt>Subtotal</dt>
          <dd>{formatMoney(view.subtotal_minor, view.currency)}</dd>
        </div>
        {view.discount_minor > 0 ? (
          <div className="flex justify-between text-green-800">
            <dt>Discount</dt>
            <dd>−{formatMoney(view.discount_minor, view.currency)}</dd>
          </div>
        ) : null}
        <div className="flex justify-between">
          <dt>Delivery</dt>
          <dd>{view.shipping ? formatMoney(view.shipping_minor, view.currency) : '—'}</dd>
        </div>
        <div className="flex justify-between text-base font-semibold">
          <dt>Total</dt>
          <dd>{formatMoney(view.total_minor, view.currency)}</dd>
        </div>
      </dl>
      {view.address ? (
        <div className="border-t border-stone-200 pt-2">
          <p className="font-medium">Delivering to</p>
          <AddressLines address={view.address} />
        </div>
      ) : null}
    </aside>
  );
}

function Confirmation({ view }: { view: CheckoutView }) {
  if (view.step === 'cancelled') {
    return (
      <div role="status" className="space-y-2">
        <h2 className="text-xl font-semibold">This checkout was cancelled</h2>
        <p>{view.order?.cancel_reason ?? 'The payment did not complete in time, so nothing was charged.'}</p>
        <Link className="underline" to="/cart">
          Back to the cart
        </Link>
      </div>
    );
  }
  return (
    <div role="status" className="space-y-2">
      <h2 className="text-xl font-semibold">Thank you — your order is confirmed</h2>
      {view.order ? (
        <>
          <p>
            Order <strong>{view.order.id}</strong>, {formatMoney(view.order.total_minor, view.order.currency)}. A confirmation e-mail with your invoice is on its way.
          </p>
          <Link className="underline" to={`/account/orders/${view.order.id}`}>
            See your order
          </Link>
        </>
      ) : null}
    </div>
  );
}

/** Address → delivery → payment → confirmation, each step posted to the cell and its answer shown. */
export function CheckoutPage({ checkoutId }: { checkoutId: string }) {
  const query = useCheckout(checkoutId);
  const [editing, setEditing] = useState<StepName | null>(null);
  // The intent Stripe.js confirmed on this page, waiting for its webhook.
  const [confirmed, setConfirmed] = useState<string | null>(null);
  const [params] = useSearchParams();
  const returned = stripeReturnOf(params);
  return (
    <div>
      <h1 className="mb-4 text-2xl font-semibold">Checkout</h1>
      <Async query={query} loadingLabel="Loading your checkout…" errorTitle="Could not load this checkout">
        {(view) => {
          const serverStep = view.step;
          const shown: string = serverStep === 'paying' ? payingShows(view, confirmed, returned) : serverStep;
          const step: string = editing && (serverStep === 'shipping' || serverStep === 'payment') ? editing : shown;
          const redirectFailed = shown === 'payment' && returned?.status === 'failed' && returned.intent === view.payment?.intent;
          const done = () => setEditing(null);
          return (
            <>
              <Progress current={stepIndex(step)} />
              <div className="grid gap-8 lg:grid-cols-[1fr_22rem]">
                <section aria-live="polite">
                  {step === 'address' ? <AddressStep checkoutId={view.id} onDone={done} /> : null}
                  {step === 'shipping' ? <ShippingStep view={view} onDone={done} /> : null}
                  {step === 'payment' ? <PaymentStep view={view} redirectFailed={redirectFailed} onConfirmed={setConfirmed} /> : null}
                  {step === 'paying' ? <Spinner label="Waiting for the payment to be confirmed…" /> : null}
                  {step === 'completed' || step === 'cancelled' ? <Confirmation view={view} /> : null}
                  {(serverStep === 'shipping' || serverStep === 'payment') && editing === null ? (
                    <div className="mt-6 flex gap-2">
                      <Button variant="ghost" className="underline" onClick={() => setEditing('address')}>
                        Change address
                      </Button>
                      {serverStep === 'payment' ? (
                        <Button variant="ghost" className="underline" onClick={() => setEditing('shipping')}>
                          Change delivery
                        </Button>
                      ) : null}
                    </div>
                  ) : null}
                </section>
                <Summary view={view} />
              </div>
            </>
          );
        }}
      </Async>
    </div>
  );
}
