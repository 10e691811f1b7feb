import { useNavigate, useParams, useSearchParams } from 'react-router-dom';

import { AddToCartButton, CartPage } from '@/features/cart';
import { CategoryTitle, HomePage, ProductDetails } from '@/features/catalog';
import { CheckoutPage, useStartCheckout } from '@/features/checkout';
import { SearchResultsView } from '@/features/search';
import { useSession } from '@/lib/session';

import { NotFound } from '../guards';

export function HomeRoute() {
  return <HomePage />;
}

export function SearchRoute() {
  const [params] = useSearchParams();
  const q = params.get('q');
  return <SearchResultsView title={q ? `Results for “${q}”` : 'All products'} />;
}

export function CategoryRoute() {
  const { slug = '' } = useParams();
  return <SearchResultsView key={slug} title={<CategoryTitle slug={slug} />} fixed={{ category: slug }} />;
}

export function ProductRoute() {
  const { slug } = useParams();
  if (!slug) return <NotFound />;
  return <ProductDetails slug={slug} purchase={(variant) => <AddToCartButton variant={variant} />} />;
}

/** The cart composes the checkout's start: guests sign in first (their cart comes along). */
export function CartRoute() {
  const navigate = useNavigate();
  const signedIn = useSession((state) => state.status === 'authenticated');
  const start = useStartCheckout();
  const onCheckout = () => {
    if (!signedIn) {
      navigate(`/login?return_to=${encodeURIComponent('/cart')}`);
      return;
    }
    start.mutate(undefined, { onSuccess: (view) => navigate(`/checkout/${view.id}`) });
  };
  return <CartPage onCheckout={onCheckout} checkoutBusy={start.isPending} checkoutError={start.error ?? undefined} />;
}

export function CheckoutRoute() {
  const { id } = useParams();
  if (!id) return <NotFound />;
  return <CheckoutPage checkoutId={id} />;
}
