import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';

import type { ProductInput } from '@/api/wire/ProductInput';
import type { ProductSnapshot } from '@/api/wire/ProductSnapshot';
import type { VariantInput } from '@/api/wire/VariantInput';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextAreaField, TextField } from '@/components/ui/Field';

import { useAdminProduct, useReplaceProduct, useSetPublished } from '../api/products';

import { StockPanel } from './StockPanel';

/** The snapshot as the input that would write it again (brand and category by slug). */
export function inputOf(product: ProductSnapshot): ProductInput {
  return {
    slug: product.slug,
    title: product.title,
    description: product.description,
    brand: product.brand.slug,
    category: product.categories[product.categories.length - 1]?.slug ?? '',
    tags: product.tags,
    images: product.images.map((image) => ({ url: image.url, alt: image.alt })),
    attributes: product.attributes,
    published: product.published,
    variants: product.variants.map((variant) => ({
      sku: variant.sku,
      size: variant.size,
      colour: variant.colour,
      price_minor: variant.price_minor,
      currency: variant.currency,
      compare_at_minor: variant.compare_at_minor,
      stock: null,
    })),
  };
}

/** "45.00" → 4500; empty → null. */
function minorOf(text: string): number | null {
  if (text.trim() === '') return null;
  const value = Math.round(Number(text) * 100);
  return Number.isFinite(value) ? value : null;
}

function majorOf(minor: number | null): string {
  return minor === null ? '' : (minor / 100).toFixed(2);
}

function VariantRow({ variant, onChange, index }: { variant: VariantInput; index: number; onChange: (next: VariantInput) => void }) {
  return (
    <tr className="border-b border-stone-100">
      <td className="p-1">
        <input aria-label={`SKU of variant ${index + 1}`} className="w-40 rounded border border-stone-500 px-2 py-1" value={variant.sku} onChange={(e) => onChange({ ...variant, sku: e.target.value })} />
      </td>
      <td className="p-1">
        <input aria-label={`Size of variant ${index + 1}`} className="w-16 rounded border border-stone-500 px-2 py-1" value={variant.size} onChange={(e) => onChange({ ...variant, size: e.target.value })} />
      </td>
      <td className="p-1">
        <input aria-label={`Colour of variant ${index + 1}`} className="w-24 rounded border border-stone-500 px-2 py-1" value={variant.colour} onChange={(e) => onChange({ ...variant, colour: e.target.value })} />
      </td>
      <td className="p-1">
        <input
          aria-label={`Price of variant ${index + 1}`}
          inputMode="decimal"
          className="w-24 rounded border border-stone-500 px-2 py-1"
          defaultValue={majorOf(variant.price_minor)}
          onBlur={(e) => onChange({ ...variant, price_minor: minorOf(e.target.value) ?? 0 })}
        />
      </td>
      <td className="p-1">
        <input
          aria-label={`Former price of variant ${index + 1}`}
          inputMode="decimal"
          className="w-24 rounded border border-stone-500 px-2 py-1"
          defaultValue={majorOf(variant.compare_at_minor)}
          onBlur={(e) => onChange({ ...variant, compare_at_minor: minorOf(e.target.value) })}
        />
      </td>
      <td className="p-1 text-xs">{variant.currency}</td>
    </tr>
  );
}

function Editor({ product, id }: { product: ProductSnapshot; id: string }) {
  const replace = useReplaceProduct(id);
  const publish = useSetPublished(id);
  const [draft, setDraft] = useState<ProductInput>(() => inputOf(product));
  const [tags, setTags] = useState(product.tags.join(', '));
  const currency = product.variants[0]?.currency ?? 'GBP';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = {
      ...draft,
      tags: tags.split(',').map((tag) => tag.trim()).filter(Boolean),
      // Publication has its own button; the latest snapshot says where it stands.
      published: product.published,
      expected_version: product.version,
    };
    replace.mutate(body);
  };
  const setVariant = (index: number, next: VariantInput) => setDraft({ ...draft, variants: draft.variants.map((v, i) => (i === index ? next : v)) });
  const addVariant = () =>
    setDraft({ ...draft, variants: [...draft.variants, { sku: '', size: '', colour: '', price_minor: 0, currency, compare_at_minor: null, stock: 0 }] });

  return (
    <form onSubmit={submit} className="space-y-4" aria-label="Edit product">
      <div className="flex flex-wrap items-center gap-3">
        <h2 className="text-xl font-semibold">{product.title}</h2>
        <span className="text-sm text-stone-700">
          version {product.version} · {product.published ? 'published' : 'hidden'}
        </span>
        <Button variant="secondary" busy={publish.isPending} onClick={() => publish.mutate(!product.published)}>
          {product.published ? 'Unpublish' : 'Publish'}
        </Button>
        <Link className="text-sm underline" to={`/products/${product.slug}`}>
          View in the shop
        </Link>
      </div>
      {publish.isError ? <ErrorMessage error={publish.error} title="Could not change publication" /> : null}
      <TextField label="Title" required value={draft.title} onChange={(e) => setDraft({ ...draft, title: e.target.value })} />
      <TextAreaField id="product-description" label="Description" rows={5} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
      <TextField label="Tags (comma-separated)" value={tags} onChange={(e) => setTags(e.target.value)} />
      <fieldset>
        <legend className="mb-2 font-semibold">Variants and prices</legend>
        <div className="overflow-x-auto">
          <table className="text-left text-sm">
            <thead>
              <tr>
                <th scope="col" className="p-1">SKU</th>
                <th scope="col" className="p-1">Size</th>
                <th scope="col" className="p-1">Colour</th>
                <th scope="col" className="p-1">Price</th>
                <th scope="col" className="p-1">Former price</th>
                <th scope="col" className="p-1">Currency</th>
              </tr>
            </thead>
            <tbody>
              {draft.variants.map((variant, index) => (
                <VariantRow key={index} index={index} variant={variant} onChange={(next) => setVariant(index, next)} />
              ))}
            </tbody>
          </table>
        </div>
        <Button variant="ghost" className="mt-2 underline" onClick={addVariant}>
          Add a variant
        </Button>
        <p className="text-xs text-stone-700">A new variant starts with 0 units; restock it from the stock ledger.</p>
      </fieldset>
      {replace.isError ? <ErrorMessage error={replace.error} title="Could not save the product" /> : null}
      {replace.isSuccess ? (
        <p role="status" className="text-sm text-green-800">
          Saved as version {replace.data.version}; the cells pick it up within seconds.
        </p>
      ) : null}
      <Button type="submit" busy={replace.isPending}>
        Save product
      </Button>
    </form>
  );
}

function StockSection({ product }: { product: ProductSnapshot }) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section aria-labelledby="stock-title" className="mt-8">
      <h3 id="stock-title" className="mb-2 font-semibold">
        Stock
      </h3>
      <ul className="space-y-2">
        {product.variants.map((variant) => (
          <li key={variant.sku}>
            <Button variant="ghost" className="underline" aria-expanded={open === variant.sku} onClick={() => setOpen(open === variant.sku ? null : variant.sku)}>
              {variant.sku} ({variant.colour}, {variant.size})
            </Button>
            {open === variant.sku ? <StockPanel sku={variant.sku} /> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ProductEditPage({ productId }: { productId: string }) {
  const query = useAdminProduct(productId);
  return (
    <Async query={query} errorTitle="Could not load the product">
      {(product) => (
        <>
          <Editor key={product.id} product={product} id={productId} />
          <StockSection product={product} />
        </>
      )}
    </Async>
  );
}
