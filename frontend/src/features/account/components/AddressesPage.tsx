import { useState, type FormEvent } from 'react';

import type { AddressRequest } from '@/api/wire/AddressRequest';
import type { AddressResponse } from '@/api/wire/AddressResponse';
import { AddressFields, AddressLines, emptyAddress } from '@/components/AddressFields';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { CheckboxField } from '@/components/ui/Field';

import { useAddresses, useCreateAddress, useDeleteAddress, useUpdateAddress } from '../api/addresses';

function toRequest(address: AddressResponse): AddressRequest {
  const { id: _id, ...rest } = address;
  return rest;
}

function AddressEditor({ initial, onClose, id }: { initial: AddressRequest; id?: string; onClose: () => void }) {
  const create = useCreateAddress();
  const update = useUpdateAddress();
  const [draft, setDraft] = useState(initial);
  const mutation = id ? update : create;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (id) update.mutate({ id, body: draft }, { onSuccess: onClose });
    else create.mutate(draft, { onSuccess: onClose });
  };
  return (
    <form onSubmit={submit} className="space-y-3 rounded border border-stone-200 bg-white p-4" aria-label={id ? 'Edit address' : 'New address'}>
      <AddressFields value={draft} onChange={setDraft} />
      <CheckboxField label="Use as my default address" checked={draft.is_default ?? false} onChange={(e) => setDraft({ ...draft, is_default: e.target.checked })} />
      {mutation.isError ? <ErrorMessage error={mutation.error} title="Could not save the address" /> : null}
      <div className="flex gap-2">
        <Button type="submit" busy={mutation.isPending}>
          Save address
        </Button>
        <Button variant="secondary" onClick={onClose}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

export function AddressesPage() {
  const query = useAddresses();
  const remove = useDeleteAddress();
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  return (
    <section aria-labelledby="addresses-title">
      <div className="mb-4 flex items-center justify-between">
        <h2 id="addresses-title" className="text-xl font-semibold">
          Addresses
        </h2>
        {editing === null ? <Button onClick={() => setEditing('new')}>Add an address</Button> : null}
      </div>
      {editing === 'new' ? <AddressEditor initial={emptyAddress()} onClose={() => setEditing(null)} /> : null}
      {remove.isError ? <ErrorMessage error={remove.error} title="Could not delete the address" /> : null}
      <Async query={query} errorTitle="Could not load your addresses">
        {({ addresses }) =>
          addresses.length === 0 ? (
            <p className="text-stone-700">No saved addresses yet.</p>
          ) : (
            <ul className="mt-4 grid gap-4 sm:grid-cols-2">
              {addresses.map((address) =>
                editing === address.id ? (
                  <li key={address.id} className="sm:col-span-2">
                    <AddressEditor id={address.id} initial={toRequest(address)} onClose={() => setEditing(null)} />
                  </li>
                ) : (
                  <li key={address.id} className="rounded border border-stone-200 bg-white p-4 text-sm">
                    {address.is_default ? <p className="mb-1 text-xs font-semibold uppercase text-accent">Default</p> : null}
                    <AddressLines address={address} />
                    <div className="mt-3 flex gap-2">
                      <Button variant="secondary" onClick={() => setEditing(address.id)}>
                        Edit<span className="sr-only"> {address.line1}</span>
                      </Button>
                      <Button variant="ghost" busy={remove.isPending && remove.variables === address.id} onClick={() => remove.mutate(address.id)}>
                        Delete<span className="sr-only"> {address.line1}</span>
                      </Button>
                    </div>
                  </li>
                ),
              )}
            </ul>
          )
        }
      </Async>
    </section>
  );
}
