import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { SelectField, TextField } from '@/components/ui/Field';
import { Spinner } from '@/components/ui/Spinner';
import { formatDate, formatMoney } from '@/lib/format';

import { useOrders, type OrderFilters } from '../api/orders';

import { StatusBadge } from './StatusBadge';

export const ORDER_STATUSES = ['pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled'];

export function OrdersPage() {
  const [draft, setDraft] = useState<OrderFilters>({});
  const [filters, setFilters] = useState<OrderFilters>({});
  const query = useOrders(filters);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };
  const orders = query.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="orders-title">
      <h2 id="orders-title" className="mb-4 text-xl font-semibold">
        Orders
      </h2>
      <form onSubmit={submit} aria-label="Filter orders" className="mb-6 grid gap-3 sm:grid-cols-5 sm:items-end">
        <SelectField label="Status" value={draft.status ?? ''} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
          <option value="">Any</option>
          {ORDER_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </SelectField>
        <TextField label="From" type="date" value={draft.from ?? ''} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <TextField label="Before" type="date" value={draft.to ?? ''} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <TextField label="Product, SKU or order id" value={draft.q ?? ''} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
        <Button type="submit" variant="secondary">
          Filter
        </Button>
      </form>
      {query.isPending ? <Spinner label="Loading your orders…" /> : null}
      {query.isError ? <ErrorMessage error={query.error} title="Could not load your orders" onRetry={() => void query.refetch()} /> : null}
      {query.isSuccess && orders.length === 0 ? <p className="text-stone-700">No orders match.</p> : null}
      {orders.length > 0 ? (
        <ul className="divide-y divide-stone-200 rounded border border-stone-200 bg-white" aria-label="Your orders">
          {orders.map((order) => (
            <li key={order.id}>
              <Link to={`/account/orders/${order.id}`} className="flex flex-wrap items-center justify-between gap-2 p-4 hover:bg-stone-50">
                <span>
                  <span className="block font-medium">{order.first_title ?? 'Order'}{order.item_count > 1 ? ` and ${order.item_count - 1} more` : ''}</span>
                  <span className="block text-xs text-stone-700">
                    {formatDate(order.created_at)} · {order.id}
                  </span>
                </span>
                <span className="flex items-center gap-3">
                  <StatusBadge status={order.status} />
                  <span className="font-medium">{formatMoney(order.total_minor, order.currency)}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
      {query.hasNextPage ? (
        <Button variant="secondary" className="mt-4" busy={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
          Show more
        </Button>
      ) : null}
    </section>
  );
}
