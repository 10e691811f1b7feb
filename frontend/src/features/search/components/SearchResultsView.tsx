import { useState, type ReactNode } from 'react';

import type { SearchHit } from '@/api/wire/SearchHit';
import { ProductCardGrid, type ProductCardProps } from '@/components/ProductCard';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { SelectField } from '@/components/ui/Field';

import { hasWords, useSearch } from '../api/search';
import { useSearchFilters, type ListFacet } from '../hooks/useSearchFilters';

import { FacetSidebar } from './FacetSidebar';
import { Highlighted } from './Highlighted';
import { SearchModeControl } from './SearchModeControl';

const SORTS: [string, string][] = [
  ['relevance', 'Relevance'],
  ['newest', 'Newest'],
  ['price_asc', 'Price: low to high'],
  ['price_desc', 'Price: high to low'],
  ['rating', 'Rating'],
];

/** A hit's card: the matched words marked in the title and in a snippet of the description, when the cell found any. */
function cardOf({ product, highlights }: SearchHit): ProductCardProps {
  return {
    product,
    title: highlights.title ? <Highlighted html={highlights.title} /> : product.title,
    snippet: highlights.description ? <Highlighted html={highlights.description} /> : undefined,
  };
}

type Props = {
  title: ReactNode;
  /** Facets the page is about (a category page pins its category). */
  fixed?: Partial<Record<ListFacet, string>>;
};

/** A result list with its facet sidebar, sorting and pages: the search page and every category page. */
export function SearchResultsView({ title, fixed = {} }: Props) {
  const { filters, toggle, setValue, setPriceRange, setMode, setPage, clear, pinned } = useSearchFilters(fixed);
  const query = useSearch(filters);
  const [filtersOpen, setFiltersOpen] = useState(false);
  const sorts = filters.q ? SORTS : SORTS.filter(([value]) => value !== 'relevance');
  return (
    <div>
      <div className="flex flex-wrap items-end justify-between gap-4">
        <h1 className="text-2xl font-semibold">{title}</h1>
        <div className="flex flex-wrap items-start gap-4">
          {/* Semantic and hybrid search need words: the cell refuses them without. */}
          {hasWords(filters.q) ? <SearchModeControl value={filters.mode} onChange={setMode} /> : null}
          <SelectField
            label="Sort by"
            className="w-56"
            value={filters.sort ?? (filters.q ? 'relevance' : 'newest')}
            onChange={(e) => setValue('sort', e.target.value)}
          >
            {sorts.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
        </div>
      </div>
      <Async query={query} loadingLabel="Loading products…" errorTitle="Could not load products">
        {(results) => {
          const pages = Math.max(1, Math.ceil(results.total / results.limit));
          const currency = results.items[0]?.product.currency ?? 'GBP';
          return (
            <div className="mt-6 grid gap-8 md:grid-cols-[16rem_1fr]">
              <aside>
                <Button
                  variant="secondary"
                  className="md:hidden"
                  aria-expanded={filtersOpen}
                  aria-controls="search-filters"
                  onClick={() => setFiltersOpen((open) => !open)}
                >
                  {filtersOpen ? 'Hide filters' : 'Show filters'}
                </Button>
                <div id="search-filters" className={`${filtersOpen ? 'mt-3 block' : 'hidden'} md:mt-0 md:block`}>
                  <FacetSidebar
                    facets={results.facets}
                    filters={filters}
                    currency={currency}
                    pinned={pinned}
                    onToggle={toggle}
                    onValue={setValue}
                    onPrice={setPriceRange}
                    onClear={clear}
                  />
                </div>
              </aside>
              <section aria-busy={query.isFetching || undefined}>
                <p className="mb-4 text-sm text-stone-700" aria-live="polite">
                  {results.total} {results.total === 1 ? 'product' : 'products'}
                  {results.relaxed ? ' — no product held every word, so close matches are shown' : ''}
                </p>
                <ProductCardGrid cards={results.items.map(cardOf)} label="Products" />
                {pages > 1 ? (
                  <nav aria-label="Pages" className="mt-8 flex items-center justify-center gap-4">
                    <Button variant="secondary" disabled={results.page <= 1} onClick={() => setPage(results.page - 1)}>
                      Previous
                    </Button>
                    <span className="text-sm">
                      Page {results.page} of {pages}
                    </span>
                    <Button variant="secondary" disabled={results.page >= pages} onClick={() => setPage(results.page + 1)}>
                      Next
                    </Button>
                  </nav>
                ) : null}
              </section>
            </div>
          );
        }}
      </Async>
    </div>
  );
}
