import { useState, type FormEvent } from 'react';

import type { CheckoutView } from '@/api/wire/CheckoutView';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { formatMoney } from '@/lib/format';

import { useSubmitShipping } from '../api/checkout';

export function ShippingStep({ view, onDone }: { view: CheckoutView; onDone: () => void }) {
  const submit = useSubmitShipping(view.id);
  const [method, setMethod] = useState(view.shipping?.method ?? view.shipping_options[0]?.method ?? '');
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (method) submit.mutate(method, { onSuccess: onDone });
  };
  return (
    <form onSubmit={onSubmit} className="space-y-4" aria-label="Delivery method">
      <fieldset className="space-y-2">
        <legend className="mb-2 font-semibold">How fast?</legend>
        {view.shipping_options.map((option) => (
          <label key={option.method} className="flex cursor-pointer items-center gap-3 rounded border border-stone-200 bg-white p-3 text-sm">
            <input type="radio" name="shipping" className="accent-accent" checked={method === option.method} onChange={() => setMethod(option.method)} />
            <span className="flex-1">
              {option.name}
              <span className="block text-xs text-stone-700">
                {option.min_days === option.max_days ? `${option.min_days}` : `${option.min_days}–${option.max_days}`} working days
              </span>
            </span>
            <span className="font-medium">{option.price_minor === 0 ? 'Free' : formatMoney(option.price_minor, option.currency)}</span>
          </label>
        ))}
      </fieldset>
      {submit.isError ? <ErrorMessage error={submit.error} title="Could not choose that method" /> : null}
      <Button type="submit" busy={submit.isPending} disabled={!method}>
        Continue to payment
      </Button>
    </form>
  );
}
