import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';

import type { CartLine } from '@/api/wire/CartLine';
import type { CartView } from '@/api/wire/CartView';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextField } from '@/components/ui/Field';
import { formatMoney, humanise } from '@/lib/format';

import { useApplyCoupon, useCart, useRemoveCoupon, useRemoveLine, useSetQuantity } from '../api/cart';

function problemText(line: CartLine, problem: string): string {
  switch (problem) {
    case 'price_changed':
      return line.previous_price_minor != null
        ? `Price changed from ${formatMoney(line.previous_price_minor, line.currency)}`
        : 'Price changed';
    case 'out_of_stock':
      return 'Out of stock: remove it to check out';
    case 'not_enough_stock':
      return `Only ${line.availability.quantity} left: lower the quantity to check out`;
    case 'unavailable':
      return 'No longer sold: remove it to check out';
    default:
      return humanise(problem);
  }
}

function Line({ line }: { line: CartLine }) {
  const setQuantity = useSetQuantity();
  const remove = useRemoveLine();
  const error = setQuantity.error ?? remove.error;
  return (
    <li className="flex gap-4 border-b border-stone-200 py-4">
      <div className="w-20 shrink-0">
        {line.image ? <img src={line.image} alt="" width={80} height={100} className="aspect-[4/5] w-20 rounded object-cover" /> : null}
      </div>
      <div className="flex-1">
        <p className="font-medium">
          {line.product_slug ? <Link to={`/products/${line.product_slug}`}>{line.title}</Link> : line.title}
        </p>
        <p className="text-sm capitalize text-stone-700">
          {line.colour} · {line.size}
        </p>
        <p className="text-sm">{formatMoney(line.unit_price_minor, line.currency)} each</p>
        {line.problems.map((problem) => (
          <p key={problem} className="text-sm text-amber-800">
            {problemText(line, problem)}
          </p>
        ))}
        <div className="mt-2 flex items-center gap-3">
          <label className="text-sm" htmlFor={`qty-${line.sku}`}>
            Quantity
          </label>
          <select
            id={`qty-${line.sku}`}
            className="rounded border border-stone-500 px-2 py-1 text-sm"
            value={line.quantity}
            disabled={setQuantity.isPending}
            onChange={(e) => setQuantity.mutate({ sku: line.sku, quantity: Number(e.target.value) })}
          >
            {Array.from({ length: Math.max(10, line.quantity) }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <Button variant="ghost" className="min-h-8 px-2 py-1 text-sm underline" busy={remove.isPending} onClick={() => remove.mutate(line.sku)}>
            Remove<span className="sr-only"> {line.title}</span>
          </Button>
        </div>
        {error ? <ErrorMessage error={error} title="Could not change the cart" /> : null}
      </div>
      <p className="font-semibold">{formatMoney(line.line_total_minor, line.currency)}</p>
    </li>
  );
}

function Coupon({ cart }: { cart: CartView }) {
  const apply = useApplyCoupon();
  const remove = useRemoveCoupon();
  const [code, setCode] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (code.trim()) apply.mutate(code.trim(), { onSuccess: () => setCode('') });
  };
  if (cart.coupon) {
    return (
      <div className="text-sm">
        <p>
          Coupon <strong>{cart.coupon}</strong>{' '}
          <Button variant="ghost" className="min-h-8 px-2 py-1 underline" busy={remove.isPending} onClick={() => remove.mutate()}>
            Remove coupon
          </Button>
        </p>
        {cart.coupon_problem ? <p className="text-amber-800">{cart.coupon_problem.message}</p> : null}
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="flex items-end gap-2">
      <TextField label="Coupon code" value={code} onChange={(e) => setCode(e.target.value)} className="flex-1" />
      <Button type="submit" variant="secondary" busy={apply.isPending}>
        Apply
      </Button>
      {apply.isError ? <ErrorMessage error={apply.error} title="Coupon not applied" /> : null}
    </form>
  );
}

/** The cart, guest or signed in. `onCheckout` starts checkout (the app decides whether to sign in first). */
export function CartPage({ onCheckout, checkoutBusy, checkoutError }: { onCheckout: () => void; checkoutBusy?: boolean; checkoutError?: unknown }) {
  const query = useCart();
  return (
    <div>
      <h1 className="text-2xl font-semibold">Your cart</h1>
      <Async query={query} loadingLabel="Loading your cart…" errorTitle="Could not load your cart">
        {(cart) =>
          cart.items.length === 0 ? (
            <p className="py-8">
              Your cart is empty.{' '}
              <Link className="underline" to="/search">
                Browse the shop
              </Link>
            </p>
          ) : (
            <div className="mt-4 grid gap-8 lg:grid-cols-[1fr_20rem]">
              <ul aria-label="Cart lines">
                {cart.items.map((line) => (
                  <Line key={line.sku} line={line} />
                ))}
              </ul>
              <aside className="space-y-4 rounded border border-stone-200 bg-white p-4" aria-label="Summary">
                <dl className="space-y-1 text-sm">
                  <div className="flex justify-between">
                    <dt>Subtotal</dt>
                    <dd>{formatMoney(cart.subtotal_minor, cart.currency)}</dd>
                  </div>
                  {cart.discount ? (
                    <div className="flex justify-between text-green-800">
                      <dt>{cart.discount.name}</dt>
                      <dd>{cart.discount.free_shipping ? 'Free shipping' : `−${formatMoney(cart.discount.amount_minor, cart.currency)}`}</dd>
                    </div>
                  ) : null}
                  <div className="flex justify-between text-base font-semibold">
                    <dt>Total</dt>
                    <dd>{formatMoney(cart.total_minor, cart.currency)}</dd>
                  </div>
                  <p className="text-xs text-stone-700">Shipping is added at checkout.</p>
                </dl>
                <Coupon cart={cart} />
                {!cart.ready_for_checkout ? <p className="text-sm text-amber-800">Sort out the lines marked above to check out.</p> : null}
                <Button className="w-full" disabled={!cart.ready_for_checkout} busy={checkoutBusy} onClick={onCheckout}>
                  Check out
                </Button>
                {checkoutError ? <ErrorMessage error={checkoutError} title="Could not start checkout" /> : null}
              </aside>
            </div>
          )
        }
      </Async>
    </div>
  );
}
