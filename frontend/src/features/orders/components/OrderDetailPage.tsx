import { useState } from 'react';

import type { OrderDetail } from '@/api/wire/OrderDetail';
import { OrderDelivery, OrderItems, OrderStatusBadge, OrderTimeline } from '@/components/OrderView';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ConfirmDialog } from '@/components/ui/Dialog';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { formatDate, formatMoney } from '@/lib/format';

import { useCancelOrder, useDownloadInvoice, useOrder } from '../api/orders';

const CANCELLABLE = new Set(['confirmed', 'processing']);

function Actions({ order }: { order: OrderDetail }) {
  const cancel = useCancelOrder(order.id);
  const invoice = useDownloadInvoice(order.id, `${order.invoice_number ?? order.id}.pdf`);
  const [confirming, setConfirming] = useState(false);
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap gap-2">
        {order.invoice_number ? (
          <Button variant="secondary" busy={invoice.isPending} onClick={() => invoice.mutate()}>
            Download invoice {order.invoice_number}
          </Button>
        ) : null}
        {CANCELLABLE.has(order.status) ? (
          <Button variant="danger" onClick={() => setConfirming(true)}>
            Cancel order
          </Button>
        ) : null}
      </div>
      {invoice.isError ? <ErrorMessage error={invoice.error} title="Could not download the invoice" /> : null}
      {cancel.isError ? <ErrorMessage error={cancel.error} title="Could not cancel the order" /> : null}
      <ConfirmDialog
        open={confirming}
        title="Cancel this order?"
        confirmLabel="Cancel order"
        danger
        busy={cancel.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => cancel.mutate(undefined, { onSettled: () => setConfirming(false) })}
      >
        The order is cancelled and the full amount, {formatMoney(order.total_minor, order.currency)}, goes back to your card.
      </ConfirmDialog>
    </div>
  );
}

function Detail({ order }: { order: OrderDetail }) {
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <h2 className="text-xl font-semibold">Order {order.id}</h2>
        <OrderStatusBadge status={order.status} />
      </div>
      <p className="text-sm text-stone-700">Placed {formatDate(order.created_at)}</p>
      {order.cancel_reason ? <p className="text-sm">Cancelled: {order.cancel_reason}{order.refunded ? ' — refunded in full.' : ''}</p> : null}
      <Actions order={order} />
      <div className="grid gap-6 md:grid-cols-2">
        <OrderItems order={order} />
        <OrderDelivery order={order} />
      </div>
      <OrderTimeline timeline={order.timeline} />
    </div>
  );
}

export function OrderDetailPage({ orderId }: { orderId: string }) {
  const query = useOrder(orderId);
  return (
    <Async query={query} loadingLabel="Loading the order…" errorTitle="Could not load this order">
      {(order) => <Detail order={order} />}
    </Async>
  );
}
