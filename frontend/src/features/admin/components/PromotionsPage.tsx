import { useState, type FormEvent } from 'react';

import type { PromotionInput } from '@/api/wire/PromotionInput';
import type { PromotionKind } from '@/api/wire/PromotionKind';
import type { PromotionSnapshot } from '@/api/wire/PromotionSnapshot';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { CheckboxField, SelectField, TextField } from '@/components/ui/Field';
import { formatDate, formatMoney } from '@/lib/format';

import { usePromotions, useSavePromotion } from '../api/promotions';

function blank(): PromotionInput {
  return {
    code: null,
    name: '',
    kind: 'percentage',
    value: 10,
    currency: 'GBP',
    min_spend_minor: 0,
    categories: [],
    brands: [],
    starts_at: new Date().toISOString(),
    ends_at: null,
    per_shopper_limit: null,
    global_cap: null,
    active: true,
  };
}

function inputOf(promotion: PromotionSnapshot): PromotionInput {
  const { id: _id, version: _version, cell_caps: _caps, updated_at: _updated, ...input } = promotion;
  return input;
}

function describe(promotion: PromotionSnapshot): string {
  switch (promotion.kind) {
    case 'percentage':
      return `${promotion.value}% off`;
    case 'fixed_amount':
      return `${formatMoney(promotion.value, promotion.currency)} off`;
    case 'free_shipping':
      return 'Free shipping';
  }
}

function PromotionForm({ id, initial, onClose }: { id: number | null; initial: PromotionInput; onClose: () => void }) {
  const save = useSavePromotion();
  const [draft, setDraft] = useState(initial);
  const list = (text: string) => text.split(',').map((v) => v.trim()).filter(Boolean);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ id, body: draft }, { onSuccess: onClose });
  };
  return (
    <form onSubmit={submit} aria-label={id === null ? 'New promotion' : 'Edit promotion'} className="grid gap-3 rounded border border-stone-200 bg-white p-4 sm:grid-cols-2">
      <TextField label="Name" required value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
      <TextField label="Coupon code (empty: applies by itself)" value={draft.code ?? ''} onChange={(e) => setDraft({ ...draft, code: e.target.value.trim() === '' ? null : e.target.value.toUpperCase() })} />
      <SelectField label="Kind" value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value as PromotionKind })}>
        <option value="percentage">Percentage off</option>
        <option value="fixed_amount">Fixed amount off (minor units)</option>
        <option value="free_shipping">Free shipping</option>
      </SelectField>
      <TextField label="Value" type="number" min={0} value={draft.value} onChange={(e) => setDraft({ ...draft, value: Number(e.target.value) })} />
      <TextField label="Minimum spend (minor units)" type="number" min={0} value={draft.min_spend_minor} onChange={(e) => setDraft({ ...draft, min_spend_minor: Number(e.target.value) })} />
      <TextField label="Currency" value={draft.currency ?? ''} onChange={(e) => setDraft({ ...draft, currency: e.target.value.trim() === '' ? null : e.target.value.toUpperCase() })} />
      <TextField label="Categories (slugs, comma-separated)" value={draft.categories.join(', ')} onChange={(e) => setDraft({ ...draft, categories: list(e.target.value) })} />
      <TextField label="Brands (slugs, comma-separated)" value={draft.brands.join(', ')} onChange={(e) => setDraft({ ...draft, brands: list(e.target.value) })} />
      <TextField label="Starts at (RFC 3339)" required value={draft.starts_at} onChange={(e) => setDraft({ ...draft, starts_at: e.target.value })} />
      <TextField label="Ends at (RFC 3339, optional)" value={draft.ends_at ?? ''} onChange={(e) => setDraft({ ...draft, ends_at: e.target.value.trim() === '' ? null : e.target.value })} />
      <CheckboxField label="Active" checked={draft.active} onChange={(e) => setDraft({ ...draft, active: e.target.checked })} />
      <div className="sm:col-span-2">
        {save.isError ? <ErrorMessage error={save.error} title="Could not save the promotion" /> : null}
        <div className="mt-2 flex gap-2">
          <Button type="submit" busy={save.isPending}>
            Save promotion
          </Button>
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
        </div>
      </div>
    </form>
  );
}

export function PromotionsPage() {
  const query = usePromotions();
  const [editing, setEditing] = useState<{ id: number | null; initial: PromotionInput } | null>(null);
  return (
    <section aria-labelledby="promotions-title" className="space-y-4">
      <div className="flex items-center justify-between">
        <h2 id="promotions-title" className="text-xl font-semibold">
          Promotions
        </h2>
        {editing === null ? <Button onClick={() => setEditing({ id: null, initial: blank() })}>New promotion</Button> : null}
      </div>
      {editing ? <PromotionForm key={editing.id ?? 'new'} id={editing.id} initial={editing.initial} onClose={() => setEditing(null)} /> : null}
      <Async query={query} errorTitle="Could not load promotions">
        {({ items }) => (
          <ul className="divide-y divide-stone-200 rounded border border-stone-200 bg-white text-sm">
            {items.map((promotion) => (
              <li key={promotion.id} className="flex flex-wrap items-center justify-between gap-2 p-3">
                <span>
                  <span className="font-medium">{promotion.name}</span> {promotion.code ? <code className="ml-1 rounded bg-stone-100 px-1">{promotion.code}</code> : null}
                  <span className="block text-xs text-stone-700">
                    {describe(promotion)} · from {formatDate(promotion.starts_at)}
                    {promotion.ends_at ? ` until ${formatDate(promotion.ends_at)}` : ''} · {promotion.active ? 'active' : 'ended'}
                  </span>
                </span>
                <Button variant="secondary" onClick={() => setEditing({ id: promotion.id, initial: inputOf(promotion) })}>
                  Edit<span className="sr-only"> {promotion.name}</span>
                </Button>
              </li>
            ))}
          </ul>
        )}
      </Async>
    </section>
  );
}
