import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { aProductSummary, emptyFacets, someSearchResults } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderApp, renderWithProviders } from '@/testing/render';
import { server } from '@/testing/server';

import { SearchBox } from './components/SearchBox';

/** Answers searches from the query string, recording each one's parameters. */
function searchBackend() {
  const seen: URLSearchParams[] = [];
  server.use(
    http.get('*/api/search', ({ request }) => {
      const params = new URL(request.url).searchParams;
      seen.push(params);
      const brands = (params.get('brand') ?? '').split(',').filter(Boolean);
      return HttpResponse.json(
        someSearchResults({
          query: params.get('q') ?? '',
          total: brands.length > 0 ? 1 : 2,
          items: [aProductSummary(), aProductSummary({ id: 2, slug: 'flannel', title: 'Flannel shirt', brand: { slug: 'northway', name: 'Northway' } })]
            .filter((p) => brands.length === 0 || brands.includes(p.brand.slug))
            .map((product) => ({ product, score: 1, highlights: { title: null, description: null } })),
          facets: emptyFacets({
            brand: [
              { value: 'harbour-and-finch', label: 'Harbour & Finch', count: 1, selected: brands.includes('harbour-and-finch') },
              { value: 'northway', label: 'Northway', count: 1, selected: brands.includes('northway') },
            ],
            size: [{ value: 'M', label: 'M', count: 2, selected: false }],
            in_stock: 2,
          }),
        }),
      );
    }),
  );
  return seen;
}

describe('search page', () => {
  it('toggles a facet on and off through the address bar and the request', async () => {
    const seen = searchBackend();
    const { user, router } = renderApp('/search?q=shirt');

    expect(await screen.findByRole('heading', { name: 'Results for “shirt”' })).toBeInTheDocument();
    const products = await screen.findByRole('list', { name: 'Products' });
    expect(within(products).getAllByRole('listitem')).toHaveLength(2);

    await user.click(screen.getByRole('checkbox', { name: /Northway/ }));
    await waitFor(() => expect(router.state.location.search).toBe('?q=shirt&brand=northway'));
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Products' })).getAllByRole('listitem')).toHaveLength(1));
    expect(seen.at(-1)?.get('brand')).toBe('northway');
    expect(seen.at(-1)?.get('q')).toBe('shirt');
    expect(screen.getByRole('checkbox', { name: /Northway/ })).toBeChecked();

    await user.click(screen.getByRole('checkbox', { name: /Harbour/ }));
    await waitFor(() => expect(seen.at(-1)?.get('brand')).toBe('northway,harbour-and-finch'));

    await user.click(screen.getByRole('checkbox', { name: /Northway/ }));
    await waitFor(() => expect(seen.at(-1)?.get('brand')).toBe('harbour-and-finch'));
    await user.click(screen.getByRole('checkbox', { name: /Harbour/ }));
    await waitFor(() => expect(router.state.location.search).toBe('?q=shirt'));
  });

  it('sorts and resets to the first page', async () => {
    const seen = searchBackend();
    const { user, router } = renderApp('/search?q=shirt&page=2');
    await screen.findByRole('list', { name: 'Products' });
    await user.selectOptions(screen.getByLabelText('Sort by'), 'price_asc');
    await waitFor(() => expect(router.state.location.search).toBe('?q=shirt&sort=price_asc'));
    await waitFor(() => expect(seen.at(-1)?.get('sort')).toBe('price_asc'));
    expect(seen.at(-1)?.get('page')).toBeNull();
  });

  it('pins the category on a category page', async () => {
    const seen = searchBackend();
    renderApp('/c/shirts');
    await screen.findByRole('list', { name: 'Products' });
    expect(seen.at(-1)?.get('category')).toBe('shirts');
  });

  it('shows the error and retries', async () => {
    let calls = 0;
    server.use(
      http.get('*/api/search', () => {
        calls += 1;
        return calls === 1
          ? apiError(400, 'invalid_query', 'limit: 1-100')
          : HttpResponse.json(someSearchResults());
      }),
    );
    const { user } = renderApp('/search?q=x');
    expect(await screen.findByRole('alert')).toHaveTextContent('limit: 1-100');
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('list', { name: 'Products' })).toBeInTheDocument();
  });
});

describe('search box', () => {
  it('suggests as the shopper types and goes where the chosen suggestion points', async () => {
    server.use(
      http.get('*/api/search/suggest', ({ request }) =>
        HttpResponse.json({
          query: new URL(request.url).searchParams.get('q'),
          items: [
            { kind: 'product', text: 'Oxford shirt', slug: 'oxford-shirt-white' },
            { kind: 'category', text: 'Shirts', slug: 'shirts' },
          ],
        }),
      ),
    );
    const { user } = renderWithProviders(<SearchBox debounceMs={0} />);
    const box = screen.getByRole('combobox', { name: 'Search products' });
    await user.type(box, 'shi');
    const options = await screen.findAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual(['Oxford shirtProduct', 'ShirtsCategory']);
    expect(box).toHaveAttribute('aria-expanded', 'true');

    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(box).toHaveAttribute('aria-activedescendant', options[1]?.id);
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('location')).toHaveTextContent('/c/shirts');
  });

  it('searches for the typed words when no suggestion is chosen', async () => {
    const { user } = renderWithProviders(<SearchBox debounceMs={0} />);
    await user.type(screen.getByRole('combobox', { name: 'Search products' }), 'navy coat{Enter}');
    expect(screen.getByTestId('location')).toHaveTextContent('/search?q=navy%20coat');
  });
});
