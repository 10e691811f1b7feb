import { useId } from 'react';

import type { OrderDetail } from '@/api/wire/OrderDetail';
import type { TimelineEntry } from '@/api/wire/TimelineEntry';
import { formatDate, formatMoney, humanise } from '@/lib/format';

import { AddressLines } from './AddressFields';

// The parts of an order that the shopper's order page and the admin's show alike.

const STATUS_COLOURS: Record<string, string> = {
  pending: 'bg-amber-100 text-amber-900',
  confirmed: 'bg-blue-100 text-blue-900',
  processing: 'bg-blue-100 text-blue-900',
  shipped: 'bg-indigo-100 text-indigo-900',
  delivered: 'bg-green-100 text-green-900',
  cancelled: 'bg-stone-200 text-stone-700',
  refunded: 'bg-stone-200 text-stone-700',
};

export function OrderStatusBadge({ status }: { status: string }) {
  return <span className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${STATUS_COLOURS[status] ?? 'bg-stone-100'}`}>{humanise(status)}</span>;
}

function Row({ label, value, className = '' }: { label: string; value: string; className?: string }) {
  return (
    <div className={`flex justify-between ${className}`}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** The lines at the prices paid, then the totals (and what was given back). */
export function OrderItems({ order }: { order: OrderDetail }) {
  const titleId = useId();
  const money = (minor: number) => formatMoney(minor, order.currency);
  return (
    <section aria-labelledby={titleId} className="rounded border border-stone-200 bg-white p-4">
      <h3 id={titleId} className="mb-2 font-semibold">
        Items
      </h3>
      <ul className="space-y-1 text-sm">
        {order.lines.map((line) => (
          <li key={line.sku} className="flex justify-between gap-2">
            <span>
              {line.quantity} × {line.title} <span className="capitalize text-stone-700">({line.colour}, {line.size})</span>
            </span>
            <span>{money(line.line_total_minor)}</span>
          </li>
        ))}
      </ul>
      <dl className="mt-3 space-y-1 border-t border-stone-200 pt-2 text-sm">
        <Row label="Subtotal" value={money(order.subtotal_minor)} />
        {order.discount_minor > 0 ? <Row label={`Discount${order.coupon ? ` (${order.coupon})` : ''}`} value={`−${money(order.discount_minor)}`} /> : null}
        <Row label={`Delivery (${humanise(order.shipping_method)})`} value={money(order.shipping_minor)} />
        <Row label="Total" value={money(order.total_minor)} className="font-semibold" />
        {order.refunded_minor > 0 ? <Row label="Refunded" value={money(order.refunded_minor)} className="text-green-800" /> : null}
      </dl>
    </section>
  );
}

/** Where the order goes, and its tracking once it ships. */
export function OrderDelivery({ order }: { order: OrderDetail }) {
  const titleId = useId();
  return (
    <section aria-labelledby={titleId} className="rounded border border-stone-200 bg-white p-4 text-sm">
      <h3 id={titleId} className="mb-2 font-semibold">
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
  );
}

/** Each move of the order; staff also see who made it. */
export function OrderTimeline({ timeline, showActor = false }: { timeline: readonly TimelineEntry[]; showActor?: boolean }) {
  const titleId = useId();
  return (
    <section aria-labelledby={titleId}>
      <h3 id={titleId} className="mb-2 font-semibold">
        Timeline
      </h3>
      <ol className="border-l-2 border-stone-200 pl-4 text-sm">
        {timeline.map((entry) => (
          <li key={`${entry.at}-${entry.to}`} className="mb-3">
            <p className="font-medium">{humanise(entry.to)}</p>
            <p className="text-stone-700">
              <time dateTime={entry.at}>{formatDate(entry.at)}</time>
              {showActor ? ` · ${entry.actor}` : ''}
              {entry.reason ? ` — ${entry.reason}` : ''}
            </p>
          </li>
        ))}
      </ol>
    </section>
  );
}
