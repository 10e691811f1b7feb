import { useState } from 'react';

import type { OrderDetail } from '@/api/wire/OrderDetail';
import { AddressLines } from '@/components/AddressFields';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ConfirmDialog } from '@/components/ui/Dialog';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { formatDate, formatMoney, humanise } from '@/lib/format';

import { useCancelOrder, useDownloadInvoice, useOrder } from '../api/orders';

import { StatusBadge } from './StatusBadge';

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
        <StatusBadge status={order.status} />
      </div>
      <p className="text-sm text-stone-700">Placed {formatDate(order.created_at)}</p>
      {order.cancel_reason ? <p className="text-sm">Cancelled: {order.cancel_reason}{order.refunded ? ' — refunded in full.' : ''}</p> : null}
      <Actions order={order} />
      <div className="grid gap-6 md:grid-cols-2">
        <section aria-labelledby="lines-title" className="rounded border border-stone-200 bg-white p-4">
          <h3 id="lines-title" className="mb-2 font-semibold">
            Items
          </h3>
          <ul className="space-y-1 text-sm">
            {order.lines.map((line) => (
              <li key={line.sku} className="flex justify-between gap-2">
                <span>
                  {line.quantity} × {line.title} <span className="capitalize text-stone-700">({line.colour}, {line.size})</span>
                </span>
                <span>{formatMoney(line.line_total_minor, order.currency)}</span>
              </li>
            ))}
          </ul>
          <dl className="mt-3 space-y-1 border-t border-stone-200 pt-2 text-sm">
            <div className="flex justify-between">
              <dt>Subtotal</dt>
              <dd>{formatMoney(order.subtotal_minor, order.currency)}</dd>
            </div>
            {order.discount_minor > 0 ? (
              <div className="flex justify-between">
                <dt>Discount{order.coupon ? ` (${order.coupon})` : ''}</dt>
                <dd>−{formatMoney(order.discount_minor, order.currency)}</dd>
              </div>
            ) : null}
            <div className="flex justify-between">
              <dt>Delivery ({humanise(order.shipping_method)})</dt>
              <dd>{formatMoney(order.shipping_minor, order.currency)}</dd>
            </div>
            <div className="flex justify-between font-semibold">
              <dt>Total</dt>
              <dd>{formatMoney(order.total_minor, order.currency)}</dd>
            </div>
            {order.refunded_minor > 0 ? (
              <div className="flex justify-between text-green-800">
                <dt>Refunded</dt>
                <dd>{formatMoney(order.refunded_minor, order.currency)}</dd>
              </div>
            ) : null}
          </dl>
        </section>
        <section aria-labelledby="delivery-title" className="rounded border border-stone-200 bg-white p-4 text-sm">
          <h3 id="delivery-title" className="mb-2 font-semibold">
            Delivery
          </h3>
          <AddressLines address={order.address} />
          {order.tracking ? (
            <div className="mt-3">
              <p>
                {order.tracking.carrier} tracking number{' '}
                <a className="underline" href={`/api/tracking/${encodeURIComponent(order.tracking.number)}`}>
                  {order.tracking.number}
                </a>
              </p>
              {order.tracking_events.length > 0 ? (
                <ul className="mt-2 space-y-1" aria-label="Tracking events">
                  {order.tracking_events.map((event) => (
                    <li key={`${event.at}-${event.status}`}>
                      {formatDate(event.at)} — {humanise(event.status)}
                      {event.detail ? `: ${event.detail}` : ''}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : (
            <p className="mt-3 text-stone-700">Tracking appears here once the parcel ships.</p>
          )}
        </section>
      </div>
      <section aria-labelledby="timeline-title">
        <h3 id="timeline-title" className="mb-2 font-semibold">
          Timeline
        </h3>
        <ol className="border-l-2 border-stone-200 pl-4 text-sm">
          {order.timeline.map((entry) => (
            <li key={`${entry.at}-${entry.to}`} className="mb-3">
              <p className="font-medium">{humanise(entry.to)}</p>
              <p className="text-stone-700">
                <time dateTime={entry.at}>{formatDate(entry.at)}</time>
                {entry.reason ? ` — ${entry.reason}` : ''}
              </p>
            </li>
          ))}
        </ol>
      </section>
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
