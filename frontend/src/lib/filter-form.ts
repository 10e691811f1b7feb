import { useState, type FormEvent } from 'react';

/**
 * A filter form's two states: the draft being typed, and the filters last
 * applied (what the query reads), so typing does not send a request per key.
 */
export function useFilterForm<T extends object>(initial: T) {
  const [draft, setDraft] = useState<T>(initial);
  const [filters, setFilters] = useState<T>(initial);
  const apply = (event?: FormEvent) => {
    event?.preventDefault();
    setFilters(draft);
  };
  const clear = () => {
    setDraft(initial);
    setFilters(initial);
  };
  return { draft, setDraft, filters, apply, clear };
}
