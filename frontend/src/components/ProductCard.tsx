import { Link } from 'react-router-dom';

import type { ProductSummary } from '@/api/wire/ProductSummary';

import { Price } from './ui/Price';

/** Catalog images are 600 × 750 (4:5); the box keeps that ratio before they load. */
export const IMAGE_WIDTH = 600;
export const IMAGE_HEIGHT = 750;

export function ProductCard({ product }: { product: ProductSummary }) {
  return (
    <article className="group flex flex-col">
      <Link to={`/products/${product.slug}`} className="block focus:outline-none focus-visible:ring-2 focus-visible:ring-accent">
        <div className="aspect-[4/5] overflow-hidden rounded bg-stone-100">
          {product.image ? (
            <img
              src={product.image.url}
              alt={product.image.alt}
              width={IMAGE_WIDTH}
              height={IMAGE_HEIGHT}
              loading="lazy"
              decoding="async"
              className="h-full w-full object-cover transition group-hover:scale-[1.02]"
            />
          ) : null}
        </div>
        <h3 className="mt-2 text-sm font-medium">{product.title}</h3>
      </Link>
      <p className="text-xs text-stone-700">{product.brand.name}</p>
      <Price minor={product.price_minor} currency={product.currency} compareAt={product.compare_at_minor} className="mt-1 text-sm" />
      {!product.in_stock ? <p className="text-xs text-red-800">Out of stock</p> : null}
    </article>
  );
}

export function ProductGrid({ products, label }: { products: ProductSummary[]; label: string }) {
  if (products.length === 0) return <p className="py-6 text-stone-700">Nothing to show here yet.</p>;
  return (
    <ul aria-label={label} className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
      {products.map((product) => (
        <li key={product.id}>
          <ProductCard product={product} />
        </li>
      ))}
    </ul>
  );
}
