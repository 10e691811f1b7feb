import { Link } from 'react-router-dom';

import { OrderFilterForm } from '@/components/OrderFilterForm';
import { OrderStatusBadge } from '@/components/OrderView';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { LoadMore } from '@/components/ui/LoadMore';
import { Spinner } from '@/components/ui/Spinner';
import { useFilterForm } from '@/lib/filter-form';
import { formatDate, formatMoney } from '@/lib/format';

import { useOrders, type OrderFilters } from '../api/orders';

export function OrdersPage() {
  const { draft, setDraft, filters, apply } = useFilterForm<OrderFilters>({});
  const query = useOrders(filters);
  const orders = query.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="orders-title">
      <h2 id="orders-title" className="mb-4 text-xl font-semibold">
        Orders
      </h2>
      <OrderFilterForm
        label="Filter orders"
        className="mb-6"
        value={draft}
        onChange={setDraft}
        onSubmit={apply}
        searchLabel="Product, SKU or order id"
        submitLabel="Filter"
      />
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
                  <OrderStatusBadge status={order.status} />
                  <span className="font-medium">{formatMoney(order.total_minor, order.currency)}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
      <LoadMore query={query} className="mt-4" />
    </section>
  );
}
