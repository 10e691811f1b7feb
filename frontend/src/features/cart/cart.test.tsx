import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { cartBackend } from '@/testing/cart-backend';
import { aCart, aCartLine, aProductDetail } from '@/testing/fixtures';
import { useSession } from '@/lib/session';
import { renderApp, signIn } from '@/testing/render';
import { server } from '@/testing/server';

const emptyRecommendations = [
  http.get('*/api/products/:slug/similar', () => HttpResponse.json({ kind: 'similar', items: [] })),
  http.get('*/api/products/:slug/bought-together', () => HttpResponse.json({ kind: 'bought_together', items: [] })),
];

function cartLink() {
  return screen.getByRole('link', { name: /^cart/i });
}

describe('cart', () => {
  it('waits for the session to be restored before asking for the cart, then asks as the shopper', async () => {
    const seen: (string | null)[] = [];
    server.use(
      http.get('*/api/cart', ({ request }) => {
        seen.push(request.headers.get('authorization'));
        return HttpResponse.json(aCart([aCartLine()]));
      }),
    );
    useSession.setState({ status: 'restoring', accessToken: null, user: null });
    renderApp('/cart');
    // Long enough for a request to have gone out, had one been made.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([]);
    signIn();
    await screen.findByRole('list', { name: 'Cart lines' });
    expect(seen).toEqual(['Bearer token-1']);
  });

  it('adds the chosen variant from the product page and the header count follows', async () => {
    const backend = cartBackend();
    server.use(...backend.handlers, ...emptyRecommendations, http.get('*/api/products/oxford-shirt-white', () => HttpResponse.json(aProductDetail())));
    const { user } = renderApp('/products/oxford-shirt-white');

    await screen.findByRole('heading', { name: 'Oxford shirt' });
    await waitFor(() => expect(cartLink()).toHaveTextContent('0'));
    const add = screen.getByRole('button', { name: 'Add to cart' });
    expect(add).toBeDisabled(); // no size chosen yet

    expect(screen.getByRole('radio', { name: 'L (not available)' })).toBeDisabled();
    await user.click(screen.getByRole('radio', { name: 'M' }));
    expect(screen.getByText('In stock')).toBeInTheDocument();
    await user.click(add);

    await screen.findByText(/added to your cart/i);
    expect(backend.lines()).toEqual([expect.objectContaining({ sku: 'OXF-WHT-M', quantity: 1 })]);
    await waitFor(() => expect(cartLink()).toHaveTextContent('1'));
  });

  it('shows the server’s reason when there is not enough stock', async () => {
    const backend = cartBackend([aCartLine({ sku: 'OXF-WHT-M', quantity: 1 })], { 'OXF-WHT-M': 1 });
    server.use(...backend.handlers, ...emptyRecommendations, http.get('*/api/products/oxford-shirt-white', () => HttpResponse.json(aProductDetail())));
    const { user } = renderApp('/products/oxford-shirt-white');
    await user.click(await screen.findByRole('radio', { name: 'M' }));
    await user.click(screen.getByRole('button', { name: 'Add to cart' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Only 1 left.');
    expect(alert).toHaveTextContent('not_enough_stock');
  });

  it('changes quantities and removes lines in the cart page', async () => {
    const backend = cartBackend([aCartLine(), aCartLine({ sku: 'OXF-BLU-M', colour: 'blue', title: 'Blue oxford' })]);
    server.use(...backend.handlers);
    const { user } = renderApp('/cart');

    const lines = await screen.findByRole('list', { name: 'Cart lines' });
    expect(within(lines).getAllByRole('listitem')).toHaveLength(2);

    await user.selectOptions(screen.getByLabelText('Quantity', { selector: '#qty-OXF-WHT-M' }), '3');
    await waitFor(() => expect(cartLink()).toHaveTextContent('4'));
    expect(screen.getByRole('complementary', { name: 'Summary' })).toHaveTextContent('£180.00');

    await user.click(screen.getByRole('button', { name: 'Remove Blue oxford' }));
    await waitFor(() => expect(within(lines).getAllByRole('listitem')).toHaveLength(1));
    await waitFor(() => expect(cartLink()).toHaveTextContent('3'));
  });

  it('marks lines that block checkout and keeps the button disabled', async () => {
    const backend = cartBackend([aCartLine({ problems: ['out_of_stock'], availability: { status: 'out_of_stock', quantity: 0, global_hint: 0 } })]);
    server.use(...backend.handlers);
    renderApp('/cart');
    expect(await screen.findByText(/out of stock: remove it/i)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Check out' })).toBeDisabled();
  });

  it('sends a guest to sign in before checkout', async () => {
    const backend = cartBackend([aCartLine()]);
    server.use(...backend.handlers);
    const { user, router } = renderApp('/cart');
    await user.click(await screen.findByRole('button', { name: 'Check out' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?return_to=%2Fcart');
  });
});
