import { http, HttpResponse } from 'msw';

import type { CartLine } from '@/api/wire/CartLine';

import { aCart, aCartLine } from './fixtures';
import { apiError } from './handlers';

/** A small in-memory cart behind the cart API, for flows that change it. */
export function cartBackend(initial: CartLine[] = [], stock: Record<string, number> = {}) {
  let lines = initial.map((line) => ({ ...line }));
  const view = () => HttpResponse.json(aCart(lines));
  const priced = (line: CartLine, quantity: number): CartLine => ({ ...line, quantity, line_total_minor: line.unit_price_minor * quantity });
  return {
    lines: () => lines,
    replace: (next: CartLine[]) => {
      lines = next;
    },
    handlers: [
      http.get('*/api/cart', view),
      http.post('*/api/cart/items', async ({ request }) => {
        const body = (await request.json()) as { sku: string; quantity: number };
        const existing = lines.find((line) => line.sku === body.sku);
        const wanted = (existing?.quantity ?? 0) + body.quantity;
        const available = stock[body.sku] ?? 10;
        if (wanted > available) return apiError(409, 'not_enough_stock', `Only ${available} left.`);
        lines = existing
          ? lines.map((line) => (line.sku === body.sku ? priced(line, wanted) : line))
          : [...lines, priced(aCartLine({ sku: body.sku }), body.quantity)];
        return view();
      }),
      http.patch('*/api/cart/items/:sku', async ({ request, params }) => {
        const body = (await request.json()) as { quantity: number };
        lines = body.quantity === 0 ? lines.filter((l) => l.sku !== params.sku) : lines.map((l) => (l.sku === params.sku ? priced(l, body.quantity) : l));
        return view();
      }),
      http.delete('*/api/cart/items/:sku', ({ params }) => {
        if (!lines.some((l) => l.sku === params.sku)) return apiError(404, 'not_in_cart', 'Not in the cart.');
        lines = lines.filter((l) => l.sku !== params.sku);
        return view();
      }),
    ],
  };
}
