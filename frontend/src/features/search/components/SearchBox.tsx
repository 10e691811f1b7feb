import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';

import type { Suggestion } from '@/api/wire/Suggestion';

import { isSearchMode } from '../api/search';
import { useSuggestions } from '../api/suggest';
import { useDebounced } from '../hooks/useDebounced';

export function suggestionHref(suggestion: Suggestion): string {
  switch (suggestion.kind) {
    case 'product':
      return `/products/${encodeURIComponent(suggestion.slug)}`;
    case 'brand':
      return `/search?brand=${encodeURIComponent(suggestion.slug)}`;
    case 'category':
      return `/c/${encodeURIComponent(suggestion.slug)}`;
  }
}

const KIND_LABEL: Record<Suggestion['kind'], string> = { product: 'Product', brand: 'Brand', category: 'Category' };

/** The header's search: a combobox with suggestions as the shopper types (WAI-ARIA combobox pattern). */
export function SearchBox({ debounceMs = 200 }: { debounceMs?: number }) {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const typed = useDebounced(text, debounceMs);
  const suggestions = useSuggestions(typed);
  const items = open && typed.trim() ? (suggestions.data?.items ?? []) : [];
  const listId = useId();
  const optionId = (index: number) => `${listId}-option-${index}`;

  const go = (href: string) => {
    setOpen(false);
    setActive(-1);
    navigate(href);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const chosen = active >= 0 ? items[active] : undefined;
    if (chosen) go(suggestionHref(chosen));
    else if (text.trim()) {
      // How the shopper chose to match carries over to their next words.
      const mode = params.get('mode');
      const keep = isSearchMode(mode) && mode !== 'text' ? `&mode=${mode}` : '';
      go(`/search?q=${encodeURIComponent(text.trim())}${keep}`);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setOpen(true);
      setActive((index) => (items.length === 0 ? -1 : (index + 1) % items.length));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((index) => (items.length === 0 ? -1 : (index - 1 + items.length) % items.length));
    } else if (event.key === 'Escape') {
      setOpen(false);
      setActive(-1);
    }
  };

  return (
    <form role="search" onSubmit={submit} className="relative w-full">
      <label htmlFor={`${listId}-input`} className="sr-only">
        Search products
      </label>
      <input
        id={`${listId}-input`}
        type="search"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={items.length > 0}
        aria-controls={listId}
        aria-activedescendant={active >= 0 && items[active] ? optionId(active) : undefined}
        autoComplete="off"
        placeholder="Search shirts, brands, colours…"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onFocus={() => setOpen(true)}
        className="w-full rounded border border-stone-500 bg-white px-3 py-2 text-sm focus:border-accent focus:outline-none focus:ring-2 focus:ring-accent"
      />
      <ul
        id={listId}
        role="listbox"
        aria-label="Suggestions"
        className={items.length > 0 ? 'absolute left-0 right-0 z-40 mt-1 rounded border border-stone-200 bg-white py-1 shadow-lg' : 'hidden'}
      >
        {items.map((item, index) => (
          <li
            key={`${item.kind}-${item.slug}`}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            onMouseDown={(e) => {
              e.preventDefault();
              go(suggestionHref(item));
            }}
            className={`flex cursor-pointer justify-between px-3 py-2 text-sm ${index === active ? 'bg-stone-100' : ''}`}
          >
            <span>{item.text}</span>
            <span className="text-xs text-stone-700">{KIND_LABEL[item.kind]}</span>
          </li>
        ))}
      </ul>
    </form>
  );
}
