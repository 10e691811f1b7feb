import { useState, type FormEvent, type ReactNode } from 'react';

import type { OrderDetail } from '@/api/wire/OrderDetail';
import { Button } from '@/components/ui/Button';
import { ConfirmDialog } from '@/components/ui/Dialog';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextAreaField, TextField } from '@/components/ui/Field';
import { formatMoney, parseMoney } from '@/lib/format';

import { useAdvanceOrder, useCancelCellOrder, useRefundOrder, type Advance, type NextStatus } from '../api/orders';

/** The one move on from each status that the cell's order lifecycle allows. */
const NEXT: Partial<Record<string, NextStatus>> = { confirmed: 'processing', processing: 'shipped', shipped: 'delivered' };
/** Cancelling is for orders that have not shipped yet. */
const CANCELLABLE = new Set(['confirmed', 'processing']);
/** A paid order can be refunded until nothing is left; a cancelled one was refunded whole. */
const UNREFUNDABLE = new Set(['pending', 'cancelled']);

function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="rounded border border-stone-200 bg-white p-4">
      <h4 className="mb-2 font-semibold">{title}</h4>
      {children}
    </div>
  );
}

type FormProps<V> = { order: OrderDetail; busy: boolean; error: unknown; onSubmit: (value: V) => void };

function AdvanceForm({ next, busy, error, onSubmit }: Omit<FormProps<Advance>, 'order'> & { next: NextStatus }) {
  const [reason, setReason] = useState('');
  const [carrier, setCarrier] = useState('');
  const [number, setNumber] = useState('');
  const ships = next === 'shipped';
  const ready = reason.trim() !== '' && (!ships || (carrier.trim() !== '' && number.trim() !== ''));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    onSubmit({ status: next, reason: reason.trim(), tracking: ships ? { carrier: carrier.trim(), number: number.trim() } : null });
  };
  return (
    <form onSubmit={submit} aria-label="Move the order on" className="space-y-3">
      <TextField label="Reason (kept in the timeline)" required value={reason} onChange={(e) => setReason(e.target.value)} />
      {ships ? (
        <div className="grid items-start gap-3 sm:grid-cols-2">
          <TextField label="Carrier" required value={carrier} onChange={(e) => setCarrier(e.target.value)} />
          <TextField label="Tracking number" required hint="Needed to ship" value={number} onChange={(e) => setNumber(e.target.value)} />
        </div>
      ) : null}
      {error ? <ErrorMessage error={error} title="Could not move the order on" /> : null}
      <Button type="submit" busy={busy} disabled={!ready}>
        Mark as {next}
      </Button>
    </form>
  );
}

function RefundForm({ order, left, busy, error, onSubmit }: FormProps<{ amount_minor: number; reason: string }> & { left: number }) {
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const minor = parseMoney(amount, order.currency);
  let amountError: string | undefined;
  if (amount.trim() !== '') {
    if (minor === null) amountError = `Enter an amount in ${order.currency}, such as 12.50.`;
    else if (minor < 1) amountError = 'Enter more than nothing.';
    else if (minor > left) amountError = `At most ${formatMoney(left, order.currency)} is left to refund.`;
  }
  const ready = minor !== null && amountError === undefined && reason.trim() !== '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ready) onSubmit({ amount_minor: minor, reason: reason.trim() });
  };
  return (
    <form onSubmit={submit} aria-label="Refund" className="space-y-3">
      <div className="grid items-start gap-3 sm:grid-cols-2">
        <TextField
          label={`Amount (${order.currency})`}
          inputMode="decimal"
          autoComplete="off"
          required
          hint={`Up to ${formatMoney(left, order.currency)}`}
          error={amountError}
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
        />
        <TextField label="Reason for the refund" required value={reason} onChange={(e) => setReason(e.target.value)} />
      </div>
      {error ? <ErrorMessage error={error} title="Could not refund" /> : null}
      <Button type="submit" busy={busy} disabled={!ready}>
        Refund
      </Button>
    </form>
  );
}

/** What an admin can do to the order from where it stands: move it on, refund, cancel. */
export function AdminOrderActions({ cell, order }: { cell: string; order: OrderDetail }) {
  const advance = useAdvanceOrder(cell, order.id);
  const refund = useRefundOrder(cell, order.id);
  const cancel = useCancelCellOrder(cell, order.id);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [cancelReason, setCancelReason] = useState('');

  const next = NEXT[order.status];
  const left = order.total_minor - order.refunded_minor;
  const refundable = !UNREFUNDABLE.has(order.status) && left > 0;
  const cancellable = CANCELLABLE.has(order.status);
  const money = (minor: number) => formatMoney(minor, order.currency);

  const start = () => {
    setNotice(null);
    advance.reset();
    refund.reset();
    cancel.reset();
  };
  const closeCancel = () => {
    setConfirming(false);
    setCancelReason('');
  };

  if (!next && !refundable && !cancellable) {
    return notice ? (
      <p role="status" className="rounded bg-green-50 p-2 text-sm text-green-900">
        {notice}
      </p>
    ) : (
      <p className="text-sm text-stone-700">Nothing more can be done to this order.</p>
    );
  }

  return (
    <section aria-label="Order actions" className="space-y-3">
      <p role="status" className={notice ? 'rounded bg-green-50 p-2 text-sm text-green-900' : 'sr-only'}>
        {notice}
      </p>
      <div className="grid gap-4 lg:grid-cols-2">
        {next ? (
          <Panel title="Move on">
            <AdvanceForm
              // A fresh form for each status: the fields of the last move do not carry over.
              key={order.status}
              next={next}
              busy={advance.isPending}
              error={advance.isError ? advance.error : null}
              onSubmit={(value) => {
                start();
                advance.mutate(value, { onSuccess: (moved) => setNotice(`Order marked as ${moved.status}.`) });
              }}
            />
          </Panel>
        ) : null}
        {refundable ? (
          <Panel title="Refund">
            <RefundForm
              key={order.refunded_minor}
              order={order}
              left={left}
              busy={refund.isPending}
              error={refund.isError ? refund.error : null}
              onSubmit={(value) => {
                start();
                refund.mutate(value, { onSuccess: () => setNotice(`Refund of ${money(value.amount_minor)} requested.`) });
              }}
            />
          </Panel>
        ) : null}
      </div>
      {cancellable ? (
        <div className="flex flex-wrap items-center gap-3">
          <Button variant="danger" onClick={() => setConfirming(true)}>
            Cancel order
          </Button>
          <span className="text-sm text-stone-700">Possible until the order ships.</span>
        </div>
      ) : null}
      {cancel.isError ? <ErrorMessage error={cancel.error} title="Could not cancel the order" /> : null}
      <ConfirmDialog
        open={confirming}
        title={`Cancel order ${order.id}?`}
        confirmLabel="Cancel order"
        danger
        busy={cancel.isPending}
        confirmDisabled={cancelReason.trim() === ''}
        onCancel={closeCancel}
        onConfirm={() => {
          start();
          cancel.mutate(cancelReason.trim(), { onSuccess: () => setNotice('Order cancelled.'), onSettled: closeCancel });
        }}
      >
        <p>The stock goes back and the payment is refunded: {money(left)} of {money(order.total_minor)}.</p>
        <TextAreaField className="mt-3" label="Reason (kept in the timeline)" value={cancelReason} onChange={(e) => setCancelReason(e.target.value)} />
      </ConfirmDialog>
    </section>
  );
}
