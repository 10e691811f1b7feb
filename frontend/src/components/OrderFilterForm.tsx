import type { FormEvent } from 'react';

import { Button } from './ui/Button';
import { SelectField, TextField } from './ui/Field';

export const ORDER_STATUSES = ['pending', 'confirmed', 'processing', 'shipped', 'delivered', 'cancelled'];

/** The filters an order list takes (`GET /api/orders`, `GET /admin/api/orders`): all optional. */
export type OrderFilterValues = { status?: string; from?: string; to?: string; q?: string };

type Props<T extends OrderFilterValues> = {
  /** The form's accessible name. */
  label: string;
  value: T;
  onChange: (next: T) => void;
  onSubmit: (event: FormEvent) => void;
  searchLabel: string;
  submitLabel: string;
  className?: string;
};

/** Status, a date range and free text: the shopper's and the staff's order filters. */
export function OrderFilterForm<T extends OrderFilterValues>({ label, value, onChange, onSubmit, searchLabel, submitLabel, className = '' }: Props<T>) {
  return (
    <form onSubmit={onSubmit} aria-label={label} className={`grid gap-3 sm:grid-cols-5 sm:items-end ${className}`}>
      <SelectField label="Status" value={value.status ?? ''} onChange={(e) => onChange({ ...value, status: e.target.value })}>
        <option value="">Any</option>
        {ORDER_STATUSES.map((status) => (
          <option key={status} value={status}>
            {status}
          </option>
        ))}
      </SelectField>
      <TextField label="From" type="date" value={value.from ?? ''} onChange={(e) => onChange({ ...value, from: e.target.value })} />
      <TextField label="Before" type="date" value={value.to ?? ''} onChange={(e) => onChange({ ...value, to: e.target.value })} />
      <TextField label={searchLabel} value={value.q ?? ''} onChange={(e) => onChange({ ...value, q: e.target.value })} />
      <Button type="submit" variant="secondary">
        {submitLabel}
      </Button>
    </form>
  );
}
