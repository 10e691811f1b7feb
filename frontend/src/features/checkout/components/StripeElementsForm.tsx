import type { Stripe, StripeElements, StripeError } from '@stripe/stripe-js';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { ApiError } from '@/lib/api-error';

import { loadStripeJs, stripeAppearance } from '../api/stripe';

type Props = {
  publishableKey: string;
  clientSecret: string;
  /** Absolute URL of this checkout: where Stripe sends the shopper back after a redirect. */
  returnUrl: string;
  /** "Pay £12.00". */
  amountLabel: string;
  /** Why the last attempt failed, in the provider's words (from the cell). */
  lastError?: string | undefined;
  /** An error to show from the start (the shopper came back from a failed redirect). */
  initialError?: string | undefined;
  /** Focus the form's heading once it shows (the shopper just asked for it). */
  autoFocus?: boolean;
  /** Stripe took the payment (or is processing it): the order now waits for the webhook. */
  onConfirmed: () => void;
};

type Loaded = { stripe: Stripe; elements: StripeElements };
type Phase = { name: 'loading' } | { name: 'ready' } | { name: 'failed'; error: ApiError };

const UNAVAILABLE =
  'The secure payment form could not be loaded from Stripe. Check your connection (an ad or script blocker can stop it too) and try again.';

function stripeFailure(error: StripeError): ApiError {
  return new ApiError({
    status: error.type === 'card_error' ? 402 : 0,
    code: error.decline_code ?? error.code ?? error.type,
    message: error.message ?? 'The payment did not go through. Please try again.',
  });
}

/**
 * Stripe's Payment Element (`stripe_js: true`): Stripe's own fields in
 * Stripe's frames, confirmed in the browser with the order's PaymentIntent.
 * The cell hears of the result from Stripe's webhook.
 */
export function StripeElementsForm({ publishableKey, clientSecret, returnUrl, amountLabel, lastError, initialError, autoFocus = false, onConfirmed }: Props) {
  const [phase, setPhase] = useState<Phase>({ name: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [payError, setPayError] = useState<ApiError | undefined>(() =>
    initialError ? new ApiError({ status: 0, code: 'payment_not_completed', message: initialError }) : undefined,
  );
  const mountPoint = useRef<HTMLDivElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const loaded = useRef<Loaded | null>(null);
  const headingId = useId();
  const statusId = useId();

  useEffect(() => {
    if (autoFocus) heading.current?.focus();
  }, [autoFocus]);

  // Load Stripe.js and mount the Payment Element; again for "Try again".
  useEffect(() => {
    let live = true;
    let unmount: (() => void) | undefined;
    setPhase({ name: 'loading' });
    loadStripeJs(publishableKey).then(
      (stripe) => {
        const target = mountPoint.current;
        if (!live || !target) return;
        const elements = stripe.elements({ clientSecret, appearance: stripeAppearance });
        const element = elements.create('payment', { layout: 'tabs' });
        element.on('ready', () => {
          if (live) setPhase({ name: 'ready' });
        });
        element.on('loaderror', (event) => {
          if (live) setPhase({ name: 'failed', error: new ApiError({ status: 0, code: event.error.code ?? 'stripe_load_error', message: event.error.message ?? UNAVAILABLE }) });
        });
        element.mount(target);
        loaded.current = { stripe, elements };
        unmount = () => element.destroy();
      },
      () => {
        if (live) setPhase({ name: 'failed', error: new ApiError({ status: 0, code: 'stripe_js_unavailable', message: UNAVAILABLE }) });
      },
    );
    return () => {
      live = false;
      loaded.current = null;
      unmount?.();
    };
  }, [publishableKey, clientSecret, attempt]);

  const retry = () => {
    setAttempt((n) => n + 1);
    // The error and its button go; the shopper stays in the payment form.
    heading.current?.focus();
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const ready = loaded.current;
    if (!ready || phase.name !== 'ready' || confirming) return;
    setConfirming(true);
    setPayError(undefined);
    let error: StripeError | undefined;
    try {
      // Redirects (3-D Secure on the bank's page, some payment methods) come
      // back to `returnUrl`; everything else answers here.
      ({ error } = await ready.stripe.confirmPayment({
        elements: ready.elements,
        confirmParams: { return_url: returnUrl },
        redirect: 'if_required',
      }));
    } catch {
      error = { type: 'api_connection_error', message: 'Could not reach Stripe. Check your connection and try again.' };
    }
    if (error) {
      setPayError(stripeFailure(error));
      setConfirming(false);
      return;
    }
    onConfirmed();
  };

  const status = phase.name === 'loading' ? 'Loading the secure payment form…' : confirming ? 'Confirming your payment…' : '';

  return (
    <form onSubmit={(event) => void onSubmit(event)} className="space-y-4" aria-label="Payment">
      <h2 ref={heading} id={headingId} tabIndex={-1} className="font-semibold focus:outline-none">
        {amountLabel}
      </h2>
      <div role="group" aria-labelledby={headingId} aria-busy={phase.name === 'loading'} className="relative min-h-[15rem]">
        {/* Stripe's frames go in here; the box keeps its height while they load. */}
        <div ref={mountPoint} data-testid="stripe-payment-element" className={phase.name === 'failed' ? 'hidden' : undefined} />
        {phase.name === 'loading' ? (
          <div className="absolute inset-0 flex items-center justify-center gap-3 text-stone-700" aria-hidden>
            <span className="h-6 w-6 animate-spin rounded-full border-2 border-stone-500 border-t-transparent" />
            <span>Loading the secure payment form…</span>
          </div>
        ) : null}
        {phase.name === 'failed' ? <ErrorMessage error={phase.error} title="The payment form did not load" onRetry={retry} /> : null}
      </div>
      <p id={statusId} role="status" aria-live="polite" className="sr-only">
        {status}
      </p>
      <p className="text-xs text-stone-700">Your card details go straight to Stripe; the shop never sees them.</p>
      {lastError && !payError ? <p className="text-sm text-red-800">Last attempt: {lastError}</p> : null}
      {payError ? <ErrorMessage error={payError} title="Payment failed" /> : null}
      <Button type="submit" busy={confirming} disabled={phase.name !== 'ready'}>
        Pay now
      </Button>
    </form>
  );
}
