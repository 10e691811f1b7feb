import { useState, type FormEvent } from 'react';

import type { AddressRequest } from '@/api/wire/AddressRequest';
import { AddressFields, AddressLines, emptyAddress } from '@/components/AddressFields';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { CheckboxField } from '@/components/ui/Field';
import { Spinner } from '@/components/ui/Spinner';

import { useSavedAddresses } from '../api/addresses';
import { useSubmitAddress } from '../api/checkout';

const NEW = 'new';

export function AddressStep({ checkoutId, onDone }: { checkoutId: string; onDone: () => void }) {
  const saved = useSavedAddresses();
  const submit = useSubmitAddress(checkoutId);
  const addresses = saved.data?.addresses ?? [];
  const [choice, setChoice] = useState<string | null>(null);
  const [draft, setDraft] = useState<AddressRequest>(emptyAddress());
  const [save, setSave] = useState(true);
  const chosen = choice ?? addresses.find((a) => a.is_default)?.id ?? addresses[0]?.id ?? NEW;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const body = chosen === NEW ? { address_id: null, address: draft, save } : { address_id: chosen, address: null, save: false };
    submit.mutate(body, { onSuccess: onDone });
  };

  if (saved.isPending) return <Spinner label="Loading your addresses…" />;
  return (
    <form onSubmit={onSubmit} className="space-y-4" aria-label="Delivery address">
      {saved.isError ? <ErrorMessage error={saved.error} title="Could not load your saved addresses" /> : null}
      <fieldset className="space-y-2">
        <legend className="mb-2 font-semibold">Where should we deliver?</legend>
        {addresses.map((address) => (
          <label key={address.id} className="flex cursor-pointer gap-3 rounded border border-stone-200 bg-white p-3 text-sm">
            <input type="radio" name="address" className="mt-1 accent-accent" checked={chosen === address.id} onChange={() => setChoice(address.id)} />
            <AddressLines address={address} />
          </label>
        ))}
        <label className="flex cursor-pointer gap-3 rounded border border-stone-200 bg-white p-3 text-sm">
          <input type="radio" name="address" className="accent-accent" checked={chosen === NEW} onChange={() => setChoice(NEW)} />
          A new address
        </label>
      </fieldset>
      {chosen === NEW ? (
        <div className="space-y-3">
          <AddressFields value={draft} onChange={setDraft} />
          <CheckboxField label="Save this address to my account" checked={save} onChange={(e) => setSave(e.target.checked)} />
        </div>
      ) : null}
      {submit.isError ? <ErrorMessage error={submit.error} title="That address was not accepted" /> : null}
      <Button type="submit" busy={submit.isPending}>
        Continue to delivery
      </Button>
    </form>
  );
}
