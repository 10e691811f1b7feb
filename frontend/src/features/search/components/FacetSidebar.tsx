import type { Facets } from '@/api/wire/Facets';
import type { FacetCount } from '@/api/wire/FacetCount';
import { Button } from '@/components/ui/Button';
import { formatMoney } from '@/lib/format';

import type { SearchFilters } from '../api/search';
import type { ListFacet } from '../hooks/useSearchFilters';

type Props = {
  facets: Facets;
  filters: SearchFilters;
  currency: string;
  pinned: Partial<Record<ListFacet, string>>;
  onToggle: (facet: ListFacet, value: string) => void;
  onValue: (name: string, value: string | undefined) => void;
  onPrice: (min: number | undefined, max: number | undefined) => void;
  onClear: () => void;
};

const TITLES: Record<ListFacet, string> = { category: 'Category', brand: 'Brand', size: 'Size', colour: 'Colour' };

function FacetGroup({
  facet,
  counts,
  chosen,
  pinned,
  onToggle,
}: {
  facet: ListFacet;
  counts: FacetCount[];
  /** Values in the address bar: shown checked before the new counts arrive. */
  chosen: string[];
  pinned: string | undefined;
  onToggle: Props['onToggle'];
}) {
  if (counts.length === 0) return null;
  return (
    <fieldset className="border-t border-stone-200 py-3">
      <legend className="py-1 text-sm font-semibold">{TITLES[facet]}</legend>
      <ul className="max-h-56 space-y-1 overflow-y-auto pr-1">
        {counts.map((count) => (
          <li key={count.value}>
            <label className="flex cursor-pointer items-center gap-2 text-sm">
              <input
                type="checkbox"
                className="h-4 w-4 accent-accent"
                checked={count.selected || chosen.includes(count.value) || pinned === count.value}
                disabled={pinned === count.value}
                onChange={() => onToggle(facet, count.value)}
              />
              <span className="flex-1">{count.label}</span>
              <span className="text-xs text-stone-700">{count.count}</span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

/** Facet counts of the whole match; values in a facet are alternatives, facets narrow each other. */
export function FacetSidebar({ facets, filters, currency, pinned, onToggle, onValue, onPrice, onClear }: Props) {
  const groups: [ListFacet, FacetCount[]][] = [
    ['category', facets.category],
    ['brand', facets.brand],
    ['size', facets.size],
    ['colour', facets.colour],
  ];
  return (
    <div aria-label="Filters" role="group">
      <div className="flex items-center justify-between pb-2">
        <h2 className="text-base font-semibold">Filters</h2>
        <Button variant="ghost" className="min-h-8 px-2 py-1 text-xs" onClick={onClear}>
          Clear all
        </Button>
      </div>
      <label className="flex items-center gap-2 border-t border-stone-200 py-3 text-sm">
        <input
          type="checkbox"
          className="h-4 w-4 accent-accent"
          checked={filters.in_stock}
          onChange={(e) => onValue('in_stock', e.target.checked ? 'true' : undefined)}
        />
        <span className="flex-1">In stock only</span>
        <span className="text-xs text-stone-700">{facets.in_stock}</span>
      </label>
      {groups.map(([facet, counts]) => (
        <FacetGroup key={facet} facet={facet} counts={counts} chosen={filters[facet]} pinned={pinned[facet]} onToggle={onToggle} />
      ))}
      {facets.price.length > 0 ? (
        <fieldset className="border-t border-stone-200 py-3">
          <legend className="py-1 text-sm font-semibold">Price</legend>
          <ul className="space-y-1">
            <li>
              <label className="flex items-center gap-2 text-sm">
                <input
                  type="radio"
                  name="price"
                  className="h-4 w-4 accent-accent"
                  checked={filters.min_price === undefined && filters.max_price === undefined}
                  onChange={() => onPrice(undefined, undefined)}
                />
                Any price
              </label>
            </li>
            {facets.price.map((bucket) => {
              const max = bucket.max_minor ?? undefined;
              const label =
                max === undefined
                  ? `${formatMoney(bucket.min_minor, currency)} and over`
                  : `${formatMoney(bucket.min_minor, currency)} to ${formatMoney(max, currency)}`;
              return (
                <li key={bucket.min_minor}>
                  <label className="flex items-center gap-2 text-sm">
                    <input
                      type="radio"
                      name="price"
                      className="h-4 w-4 accent-accent"
                      checked={filters.min_price === bucket.min_minor && filters.max_price === max}
                      onChange={() => onPrice(bucket.min_minor, max)}
                    />
                    <span className="flex-1">{label}</span>
                    <span className="text-xs text-stone-700">{bucket.count}</span>
                  </label>
                </li>
              );
            })}
          </ul>
        </fieldset>
      ) : null}
      {facets.rating.length > 0 ? (
        <fieldset className="border-t border-stone-200 py-3">
          <legend className="py-1 text-sm font-semibold">Rating</legend>
          <ul className="space-y-1">
            {facets.rating.map((rating) => (
              <li key={rating.min}>
                <label className="flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    className="h-4 w-4 accent-accent"
                    checked={filters.rating_min === rating.min}
                    onChange={(e) => onValue('rating_min', e.target.checked ? String(rating.min) : undefined)}
                  />
                  <span className="flex-1">{rating.min} stars and up</span>
                  <span className="text-xs text-stone-700">{rating.count}</span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      ) : null}
    </div>
  );
}
