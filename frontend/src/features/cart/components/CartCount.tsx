import { Link } from 'react-router-dom';

import { useCart } from '../api/cart';

/** The header's cart link with the number of units in it. */
export function CartCount() {
  const cart = useCart();
  const count = cart.data?.item_count ?? 0;
  return (
    <Link to="/cart" className="relative rounded px-3 py-2 text-sm font-medium hover:bg-stone-100">
      Cart
      <span aria-live="polite" className="ml-1 inline-flex min-w-5 items-center justify-center rounded-full bg-accent px-1.5 text-xs text-white">
        <span className="sr-only">, </span>
        {count}
        <span className="sr-only"> {count === 1 ? 'item' : 'items'}</span>
      </span>
    </Link>
  );
}
