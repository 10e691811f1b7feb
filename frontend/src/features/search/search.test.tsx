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

  it('switches how words are matched through the address bar and the request', async () => {
    const seen = searchBackend();
    const { user, router } = renderApp('/search?q=shirt&page=2');
    await screen.findByRole('list', { name: 'Products' });
    const modes = screen.getByRole('group', { name: 'Match by' });
    expect(within(modes).getByRole('radio', { name: 'Words' })).toBeChecked();
    expect(seen.at(-1)?.get('mode')).toBeNull();

    await user.click(within(modes).getByRole('radio', { name: 'Meaning' }));
    await waitFor(() => expect(router.state.location.search).toBe('?q=shirt&mode=semantic'));
    await waitFor(() => expect(seen.at(-1)?.get('mode')).toBe('semantic'));
    expect(seen.at(-1)?.get('page')).toBeNull();
    expect(screen.getByRole('radio', { name: 'Meaning' })).toBeChecked();

    await user.click(screen.getByRole('radio', { name: 'Both' }));
    await waitFor(() => expect(seen.at(-1)?.get('mode')).toBe('hybrid'));
    expect(router.state.location.search).toBe('?q=shirt&mode=hybrid');

    // New words from the header keep the chosen way of matching.
    await user.type(screen.getByRole('combobox', { name: 'Search products' }), 'navy coat{Enter}');
    await waitFor(() => expect(seen.at(-1)?.get('q')).toBe('navy coat'));
    expect(seen.at(-1)?.get('mode')).toBe('hybrid');

    await user.click(screen.getByRole('radio', { name: 'Words' }));
    await waitFor(() => expect(router.state.location.search).toBe('?q=navy+coat'));
    await waitFor(() => expect(seen.at(-1)?.has('mode')).toBe(false));
  });

  it('never asks for a semantic search without words', async () => {
    const seen = searchBackend();
    renderApp('/search?mode=semantic');
    await screen.findByRole('list', { name: 'Products' });
    expect(screen.queryByRole('group', { name: 'Match by' })).not.toBeInTheDocument();
    expect(screen.getByLabelText('Sort by')).toBeInTheDocument();
    expect(seen.at(-1)?.has('mode')).toBe(false);
  });

  it('marks the matched words in titles and description snippets, as text only', async () => {
    server.use(
      http.get('*/api/search', () =>
        HttpResponse.json(
          someSearchResults({
            query: 'shirt',
            total: 2,
            items: [
              {
                product: aProductSummary(),
                score: 2,
                highlights: {
                  title: 'Oxford <b>shirt</b>',
                  description: 'A crisp &lt;img src=x onerror=alert(1)&gt; cotton <b>shirt</b> &amp; more',
                },
              },
              {
                product: aProductSummary({ id: 2, slug: 'flannel', title: 'Flannel overshirt' }),
                score: 1,
                highlights: { title: null, description: null },
              },
            ],
          }),
        ),
      ),
    );
    renderApp('/search?q=shirt');
    const products = await screen.findByRole('list', { name: 'Products' });
    const [first, second] = within(products).getAllByRole('listitem');
    if (!first || !second) throw new Error('expected two cards');

    const title = within(first).getByRole('heading', { name: 'Oxford shirt' });
    expect([...title.querySelectorAll('mark')].map((mark) => mark.textContent)).toEqual(['shirt']);
    const snippet = within(first).getByText((_, element) => element?.tagName === 'P' && element.textContent === 'A crisp <img src=x onerror=alert(1)> cotton shirt & more');
    expect([...snippet.querySelectorAll('mark')].map((mark) => mark.textContent)).toEqual(['shirt']);
    expect(first.querySelectorAll('img')).toHaveLength(1);

    expect(within(second).getByRole('heading', { name: 'Flannel overshirt' })).toBeInTheDocument();
    expect(second.querySelector('mark')).toBeNull();
    expect(within(second).queryByText(/crisp/)).not.toBeInTheDocument();
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
