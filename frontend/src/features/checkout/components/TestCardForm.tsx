import { useState, type FormEvent } from 'react';

import type { CheckoutView } from '@/api/wire/CheckoutView';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextField } from '@/components/ui/Field';
import { formatMoney } from '@/lib/format';

import { useSubmitPayment } from '../api/checkout';
import { formatCardNumber, paymentMethodFor, testCards } from '../api/test-cards';

/**
 * The card form for the Stripe emulator (`stripe_js: false`): only Stripe's
 * test cards, sent as their test PaymentMethod id for the cell to confirm.
 */
export function TestCardForm({ view, autoFocus = false }: { view: CheckoutView; autoFocus?: boolean }) {
  const pay = useSubmitPayment(view.id);
  const [card, setCard] = useState('');
  const [expiry, setExpiry] = useState('');
  const [cvc, setCvc] = useState('');
  const [cardError, setCardError] = useState<string | undefined>();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const paymentMethod = paymentMethodFor(card);
    if (!paymentMethod) {
      setCardError('This shop runs in test mode: use one of the test cards listed below.');
      return;
    }
    setCardError(undefined);
    pay.mutate({ payment_method: paymentMethod });
  };

  return (
    <form onSubmit={onSubmit} className="space-y-4" aria-label="Payment">
      <p className="font-semibold">Pay {formatMoney(view.total_minor, view.currency)}</p>
      <TextField
        // Shown after "Enter payment details": the shopper goes on typing here.
        autoFocus={autoFocus}
        label="Card number"
        inputMode="numeric"
        autoComplete="cc-number"
        required
        value={card}
        onChange={(e) => setCard(e.target.value)}
        error={cardError}
      />
      <div className="grid grid-cols-2 gap-3">
        <TextField label="Expiry (MM/YY)" autoComplete="cc-exp" placeholder="12/34" required value={expiry} onChange={(e) => setExpiry(e.target.value)} />
        <TextField label="Security code" inputMode="numeric" autoComplete="cc-csc" required value={cvc} onChange={(e) => setCvc(e.target.value)} />
      </div>
      <div className="rounded bg-stone-100 p-3 text-xs text-stone-700">
        <p className="font-medium">Test cards (any future expiry, any security code):</p>
        <ul>
          {testCards().map((test) => (
            <li key={test.number}>
              <code>{formatCardNumber(test.number)}</code> — {test.label}
            </li>
          ))}
        </ul>
      </div>
      {view.payment?.error && !pay.isError ? <p className="text-sm text-red-800">Last attempt: {view.payment.error}</p> : null}
      {pay.isError ? <ErrorMessage error={pay.error} title="Payment failed" /> : null}
      <Button type="submit" busy={pay.isPending}>
        Pay now
      </Button>
    </form>
  );
}
