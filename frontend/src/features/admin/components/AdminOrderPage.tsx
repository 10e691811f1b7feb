import { Link } from 'react-router-dom';

import type { OrderDetail } from '@/api/wire/OrderDetail';
import type { RefundView } from '@/api/wire/RefundView';
import { DataTable, type Column } from '@/components/DataTable';
import { OrderDelivery, OrderItems, OrderStatusBadge, OrderTimeline } from '@/components/OrderView';
import { Async } from '@/components/ui/Async';
import { formatDate, formatMoney, humanise } from '@/lib/format';

import { useCellOrder } from '../api/orders';

import { AdminOrderActions } from './AdminOrderActions';

function refundColumns(currency: string): Column<RefundView>[] {
  return [
    { header: 'Requested', cell: (refund) => <time dateTime={refund.created_at}>{formatDate(refund.created_at)}</time> },
    { header: 'Amount', cell: (refund) => formatMoney(refund.amount_minor, currency) },
    { header: 'Reason', cell: (refund) => refund.reason },
    {
      header: 'State',
      cell: (refund) => (
        <>
          {humanise(refund.state)}
          {refund.error ? <span className="block text-xs text-red-800">{refund.error}</span> : null}
        </>
      ),
    },
  ];
}

function Refunds({ order }: { order: OrderDetail }) {
  return (
    <section aria-label="Refunds" className="space-y-2">
      <h3 className="font-semibold">Refunds</h3>
      {order.refunds.length === 0 ? (
        <p className="text-sm text-stone-700">No refunds by an admin.</p>
      ) : (
        <DataTable caption="Refunds, oldest first" columns={refundColumns(order.currency)} rows={order.refunds} rowKey={(refund) => refund.id} />
      )}
    </section>
  );
}

function Facts({ cell, order }: { cell: string; order: OrderDetail }) {
  const facts: [string, string][] = [
    ['Cell', cell],
    ['Placed', formatDate(order.created_at)],
    ['Payment', humanise(order.payment_status)],
    ['Invoice', order.invoice_number ?? 'not issued'],
  ];
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
      {facts.map(([label, value]) => (
        <div key={label}>
          <dt className="text-stone-700">{label}</dt>
          <dd className="font-medium">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** One order of a cell, for an admin: the order whole and what can be done to it. */
export function AdminOrderPage({ cell, orderId }: { cell: string; orderId: string }) {
  const query = useCellOrder(cell, orderId);
  return (
    <div className="space-y-4">
      <Link to="/admin/orders" className="text-sm underline">
        Back to the orders
      </Link>
      <Async query={query} loadingLabel="Loading the order…" errorTitle="Could not load this order">
        {(order) => (
          <article aria-labelledby="admin-order-title" className="space-y-6">
            <div className="flex flex-wrap items-center gap-3">
              <h2 id="admin-order-title" className="text-xl font-semibold">
                Order {order.id}
              </h2>
              <OrderStatusBadge status={order.status} />
            </div>
            <Facts cell={cell} order={order} />
            {order.cancel_reason ? (
              <p className="text-sm">
                Cancelled: {order.cancel_reason}
                {order.refunded ? ' — refunded in full.' : ''}
              </p>
            ) : null}
            <AdminOrderActions cell={cell} order={order} />
            <div className="grid gap-6 md:grid-cols-2">
              <OrderItems order={order} />
              <OrderDelivery order={order} />
            </div>
            <Refunds order={order} />
            <OrderTimeline timeline={order.timeline} showActor />
          </article>
        )}
      </Async>
    </div>
  );
}
