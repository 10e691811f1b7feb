import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';

import type { ProductDetail } from '@/api/wire/ProductDetail';
import type { VariantView } from '@/api/wire/VariantView';
import { Async } from '@/components/ui/Async';
import { Price } from '@/components/ui/Price';

import { useProduct } from '../api/product';
import { useVariantPicker } from '../hooks/useVariantPicker';

import { ProductGallery } from './ProductGallery';
import { RecommendationRow } from './RecommendationRow';
import { StockStatus } from './StockStatus';

type PurchaseSlot = (variant: VariantView | undefined) => ReactNode;

function Picker({ product, purchase }: { product: ProductDetail; purchase: PurchaseSlot }) {
  const picker = useVariantPicker(product.variants);
  const shown = picker.selected ?? product.variants.find((v) => v.colour === picker.colour) ?? product.variants[0];
  return (
    <div className="space-y-5">
      {shown ? <Price minor={shown.price_minor} currency={shown.currency} compareAt={shown.compare_at_minor} className="text-xl" /> : null}
      <fieldset>
        <legend className="text-sm font-semibold">
          Colour: <span className="font-normal capitalize">{picker.colour ?? 'choose'}</span>
        </legend>
        <div className="mt-2 flex flex-wrap gap-2">
          {picker.colours.map((colour) => (
            <label key={colour} className="cursor-pointer">
              <input
                type="radio"
                name="colour"
                value={colour}
                className="peer sr-only"
                checked={picker.colour === colour}
                onChange={() => picker.setColour(colour)}
              />
              <span className="inline-block rounded border border-stone-500 px-3 py-1 text-sm capitalize peer-checked:border-accent peer-checked:bg-accent peer-checked:text-white peer-focus-visible:ring-2 peer-focus-visible:ring-accent">
                {colour}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend className="text-sm font-semibold">
          Size: <span className="font-normal">{picker.size ?? 'choose'}</span>
        </legend>
        <div className="mt-2 flex flex-wrap gap-2">
          {picker.sizes.map((size) => {
            const variant = picker.sizeVariant(size);
            const unavailable = !variant || variant.availability.status === 'out_of_stock';
            return (
              <label key={size} className={unavailable ? 'cursor-not-allowed' : 'cursor-pointer'}>
                <input
                  type="radio"
                  name="size"
                  value={size}
                  className="peer sr-only"
                  disabled={unavailable}
                  checked={picker.size === size}
                  onChange={() => picker.setSize(size)}
                  aria-label={unavailable ? `${size} (not available)` : size}
                />
                <span className="inline-block min-w-12 rounded border border-stone-500 px-3 py-1 text-center text-sm peer-checked:border-accent peer-checked:bg-accent peer-checked:text-white peer-disabled:border-stone-200 peer-disabled:text-stone-500 peer-disabled:line-through peer-focus-visible:ring-2 peer-focus-visible:ring-accent">
                  {size}
                </span>
              </label>
            );
          })}
        </div>
      </fieldset>
      <div aria-live="polite">{picker.selected ? <StockStatus availability={picker.selected.availability} /> : <p className="text-sm text-stone-700">Choose a colour and size.</p>}</div>
      {purchase(picker.selected)}
    </div>
  );
}

/** The product page. `purchase` renders the buy button for the chosen variant (the cart feature's, composed by the app). */
export function ProductDetails({ slug, purchase }: { slug: string; purchase: PurchaseSlot }) {
  const query = useProduct(slug);
  return (
    <Async query={query} loadingLabel="Loading product…" errorTitle="Could not load this product">
      {(product) => (
        <div>
          <nav aria-label="Breadcrumb" className="mb-4 text-sm text-stone-700">
            <ol className="flex flex-wrap gap-1">
              <li>
                <Link to="/" className="hover:underline">
                  Home
                </Link>
              </li>
              {product.categories.map((category) => (
                <li key={category.slug}>
                  <span aria-hidden> / </span>
                  <Link to={`/c/${category.slug}`} className="hover:underline">
                    {category.name}
                  </Link>
                </li>
              ))}
            </ol>
          </nav>
          <div className="grid gap-8 md:grid-cols-2">
            <ProductGallery images={product.images} title={product.title} />
            <div>
              <p className="text-sm uppercase tracking-wide text-stone-700">{product.brand.name}</p>
              <h1 className="text-2xl font-semibold">{product.title}</h1>
              {product.rating.count > 0 ? (
                <p className="mt-1 text-sm text-stone-700">
                  Rated {product.rating.average.toFixed(1)} of 5 ({product.rating.count} reviews)
                </p>
              ) : null}
              <div className="mt-5">
                <Picker key={product.slug} product={product} purchase={purchase} />
              </div>
              <p className="mt-6 whitespace-pre-line text-sm leading-relaxed">{product.description}</p>
              {Object.keys(product.attributes).length > 0 ? (
                <dl className="mt-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
                  {Object.entries(product.attributes).map(([name, value]) => (
                    <div key={name} className="contents">
                      <dt className="capitalize text-stone-700">{name}</dt>
                      <dd>{value}</dd>
                    </div>
                  ))}
                </dl>
              ) : null}
            </div>
          </div>
          <RecommendationRow list={{ kind: 'bought_together', slug: product.slug }} title="Bought together" limit={4} />
          <RecommendationRow list={{ kind: 'similar', slug: product.slug }} title="Similar products" limit={8} />
        </div>
      )}
    </Async>
  );
}
