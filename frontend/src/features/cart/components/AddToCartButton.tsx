import { useState } from 'react';
import { Link } from 'react-router-dom';

import type { VariantView } from '@/api/wire/VariantView';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';

import { useAddToCart } from '../api/cart';

export function AddToCartButton({ variant }: { variant: VariantView | undefined }) {
  const add = useAddToCart();
  const [addedSku, setAddedSku] = useState<string | null>(null);
  const unavailable = !variant || variant.availability.status === 'out_of_stock';
  return (
    <div className="space-y-3">
      <Button
        className="w-full sm:w-auto"
        disabled={unavailable}
        busy={add.isPending}
        onClick={() => {
          if (!variant) return;
          add.mutate({ sku: variant.sku, quantity: 1 }, { onSuccess: () => setAddedSku(variant.sku) });
        }}
      >
        {variant && unavailable ? 'Out of stock' : 'Add to cart'}
      </Button>
      <div aria-live="polite">
        {addedSku && variant?.sku === addedSku && !add.isError ? (
          <p className="text-sm text-green-800">
            Added to your cart.{' '}
            <Link to="/cart" className="underline">
              View cart
            </Link>
          </p>
        ) : null}
      </div>
      {add.isError ? <ErrorMessage error={add.error} title="Could not add to the cart" /> : null}
    </div>
  );
}
