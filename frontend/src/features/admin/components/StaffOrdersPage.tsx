import { Link } from 'react-router-dom';

import type { CellOrder } from '@/api/wire/CellOrder';
import { DataTable, type Column } from '@/components/DataTable';
import { OrderFilterForm } from '@/components/OrderFilterForm';
import { Async } from '@/components/ui/Async';
import { useFilterForm } from '@/lib/filter-form';
import { formatDate, formatMoney } from '@/lib/format';

import { useStaffOrders, type StaffOrderFilters } from '../api/orders';

const COLUMNS: Column<CellOrder>[] = [
  {
    header: 'Order',
    cell: (order) => (
      <Link className="underline" to={`/admin/orders/${encodeURIComponent(order.cell)}/${encodeURIComponent(order.id)}`}>
        {order.id}
      </Link>
    ),
  },
  { header: 'Cell', cell: (order) => order.cell },
  { header: 'Shopper', cell: (order) => order.email ?? '—' },
  { header: 'Placed', cell: (order) => formatDate(order.created_at) },
  { header: 'Status', cell: (order) => order.status },
  { header: 'Total', cell: (order) => formatMoney(order.total_minor, order.currency) },
];

export function StaffOrdersPage() {
  const { draft, setDraft, filters, apply } = useFilterForm<StaffOrderFilters>({});
  const query = useStaffOrders(filters);
  return (
    <section aria-labelledby="staff-orders" className="space-y-4">
      <h2 id="staff-orders" className="text-xl font-semibold">
        Orders across cells
      </h2>
      <OrderFilterForm label="Search orders" value={draft} onChange={setDraft} onSubmit={apply} searchLabel="E-mail, product, SKU or order id" submitLabel="Search" />
      <Async query={query} errorTitle="Could not search orders">
        {(result) => (
          <div className="space-y-3">
            <p className="text-sm text-stone-700">Answered: {result.answered.join(', ') || 'none'}</p>
            {result.unanswered.length > 0 ? (
              <p role="alert" className="rounded bg-amber-50 p-2 text-sm text-amber-900">
                Partial result — no answer from {result.unanswered.map((miss) => `${miss.cell} (${miss.reason})`).join(', ')}.
              </p>
            ) : null}
            <DataTable columns={COLUMNS} rows={result.items} rowKey={(order) => `${order.cell}-${order.id}`} />
          </div>
        )}
      </Async>
    </section>
  );
}
