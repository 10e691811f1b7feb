import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';

import type { ProductSummary } from '@/api/wire/ProductSummary';

import { Price } from './ui/Price';

/** Catalog images are 600 × 750 (4:5); the box keeps that ratio before they load. */
export const IMAGE_WIDTH = 600;
export const IMAGE_HEIGHT = 750;

export type ProductCardProps = {
  product: ProductSummary;
  /** Shown instead of the plain title (search results mark the matched words). */
  title?: ReactNode;
  /** A line of text under the brand, e.g. the part of the description that matched. */
  snippet?: ReactNode;
};

export function ProductCard({ product, title = product.title, snippet }: ProductCardProps) {
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
        <h3 className="mt-2 text-sm font-medium">{title}</h3>
      </Link>
      <p className="text-xs text-stone-700">{product.brand.name}</p>
      {snippet ? <p className="mt-1 line-clamp-3 text-xs text-stone-700">{snippet}</p> : null}
      <Price minor={product.price_minor} currency={product.currency} compareAt={product.compare_at_minor} className="mt-1 text-sm" />
      {!product.in_stock ? <p className="text-xs text-red-800">Out of stock</p> : null}
    </article>
  );
}

export function ProductGrid({ products, label }: { products: ProductSummary[]; label: string }) {
  return <ProductCardGrid cards={products.map((product) => ({ product }))} label={label} />;
}

/** The same grid, each card with its own title or snippet (search results). */
export function ProductCardGrid({ cards, label }: { cards: ProductCardProps[]; label: string }) {
  if (cards.length === 0) return <p className="py-6 text-stone-700">Nothing to show here yet.</p>;
  return (
    <ul aria-label={label} className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-4">
      {cards.map((card) => (
        <li key={card.product.id}>
          <ProductCard {...card} />
        </li>
      ))}
    </ul>
  );
}
