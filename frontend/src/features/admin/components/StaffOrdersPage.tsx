import { useState, type FormEvent } from 'react';

import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { SelectField, TextField } from '@/components/ui/Field';
import { formatDate, formatMoney } from '@/lib/format';

import { useStaffOrders, type StaffOrderFilters } from '../api/orders';

const STATUSES = ['pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled'];

export function StaffOrdersPage() {
  const [draft, setDraft] = useState<StaffOrderFilters>({});
  const [filters, setFilters] = useState<StaffOrderFilters>({});
  const query = useStaffOrders(filters);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };
  return (
    <section aria-labelledby="staff-orders" className="space-y-4">
      <h2 id="staff-orders" className="text-xl font-semibold">
        Orders across cells
      </h2>
      <form onSubmit={submit} aria-label="Search orders" className="grid gap-3 sm:grid-cols-5 sm:items-end">
        <SelectField label="Status" value={draft.status ?? ''} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
          <option value="">Any</option>
          {STATUSES.map((status) => (
            <option key={status}>{status}</option>
          ))}
        </SelectField>
        <TextField label="From" type="date" value={draft.from ?? ''} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <TextField label="Before" type="date" value={draft.to ?? ''} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <TextField label="E-mail, product, SKU or order id" value={draft.q ?? ''} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        <Button type="submit" variant="secondary">
          Search
        </Button>
      </form>
      <Async query={query} errorTitle="Could not search orders">
        {(result) => (
          <div className="space-y-3">
            <p className="text-sm text-stone-700">Answered: {result.answered.join(', ') || 'none'}</p>
            {result.unanswered.length > 0 ? (
              <p role="alert" className="rounded bg-amber-50 p-2 text-sm text-amber-900">
                Partial result — no answer from {result.unanswered.map((miss) => `${miss.cell} (${miss.reason})`).join(', ')}.
              </p>
            ) : null}
            <div className="overflow-x-auto">
              <table className="w-full bg-white text-left text-sm">
                <thead>
                  <tr className="border-b border-stone-200">
                    <th scope="col" className="p-2">Order</th>
                    <th scope="col" className="p-2">Cell</th>
                    <th scope="col" className="p-2">Shopper</th>
                    <th scope="col" className="p-2">Placed</th>
                    <th scope="col" className="p-2">Status</th>
                    <th scope="col" className="p-2">Total</th>
                  </tr>
                </thead>
                <tbody>
                  {result.items.map((order) => (
                    <tr key={`${order.cell}-${order.id}`} className="border-b border-stone-100">
                      <td className="p-2">{order.id}</td>
                      <td className="p-2">{order.cell}</td>
                      <td className="p-2">{order.email ?? '—'}</td>
                      <td className="p-2">{formatDate(order.created_at)}</td>
                      <td className="p-2">{order.status}</td>
                      <td className="p-2">{formatMoney(order.total_minor, order.currency)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        )}
      </Async>
    </section>
  );
}
