import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';

import type { SearchMode } from '@/api/wire/SearchMode';

import { hasWords, isSearchMode, type SearchFilters } from '../api/search';

export const FACETS = ['brand', 'category', 'size', 'colour'] as const;
export type ListFacet = (typeof FACETS)[number];

const PAGE_SIZE = 24;

function list(params: URLSearchParams, name: string): string[] {
  return (params.get(name) ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
}

function number(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The search's filters live in the address bar, so a filtered page can be
 * shared, reloaded and navigated back to. `fixed` pins facets (a category page).
 */
export function useSearchFilters(fixed: Partial<Record<ListFacet, string>> = {}) {
  const [params, setParams] = useSearchParams();
  const fixedKey = JSON.stringify(fixed);

  const filters: SearchFilters = useMemo(() => {
    const pinned = JSON.parse(fixedKey) as Partial<Record<ListFacet, string>>;
    const facet = (name: ListFacet) => {
      const chosen = list(params, name);
      const pin = pinned[name];
      return pin && !chosen.includes(pin) ? [pin, ...chosen] : chosen;
    };
    const q = params.get('q') ?? '';
    const mode = params.get('mode');
    return {
      q,
      // Words are what semantic and hybrid search embed; without them (or with
      // a mode the cell does not know) the page searches text.
      mode: hasWords(q) && isSearchMode(mode) ? mode : 'text',
      brand: facet('brand'),
      category: facet('category'),
      size: facet('size'),
      colour: facet('colour'),
      min_price: number(params, 'min_price'),
      max_price: number(params, 'max_price'),
      rating_min: number(params, 'rating_min'),
      in_stock: params.get('in_stock') === 'true',
      sort: params.get('sort') ?? undefined,
      page: Math.max(1, number(params, 'page') ?? 1),
      limit: PAGE_SIZE,
    };
  }, [params, fixedKey]);

  const update = useCallback(
    (change: (next: URLSearchParams) => void) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          change(next);
          if (!next.has('keep_page')) next.delete('page');
          next.delete('keep_page');
          return next;
        },
        { replace: false },
      );
    },
    [setParams],
  );

  const toggle = useCallback(
    (facet: ListFacet, value: string) =>
      update((next) => {
        const values = list(next, facet);
        const without = values.filter((v) => v !== value);
        const result = without.length === values.length ? [...values, value] : without;
        if (result.length > 0) next.set(facet, result.join(','));
        else next.delete(facet);
      }),
    [update],
  );

  const setValue = useCallback(
    (name: string, value: string | undefined) =>
      update((next) => {
        if (value === undefined || value === '') next.delete(name);
        else next.set(name, value);
      }),
    [update],
  );

  const setPriceRange = useCallback(
    (min: number | undefined, max: number | undefined) =>
      update((next) => {
        if (min === undefined) next.delete('min_price');
        else next.set('min_price', String(min));
        if (max === undefined) next.delete('max_price');
        else next.set('max_price', String(max));
      }),
    [update],
  );

  const setMode = useCallback(
    (mode: SearchMode) =>
      update((next) => {
        if (mode === 'text') next.delete('mode');
        else next.set('mode', mode);
      }),
    [update],
  );

  const setPage = useCallback(
    (page: number) =>
      update((next) => {
        next.set('page', String(page));
        next.set('keep_page', '1');
      }),
    [update],
  );

  const clear = useCallback(
    () =>
      update((next) => {
        for (const name of [...FACETS, 'min_price', 'max_price', 'rating_min', 'in_stock']) next.delete(name);
      }),
    [update],
  );

  return { filters, toggle, setValue, setPriceRange, setMode, setPage, clear, pinned: fixed };
}
