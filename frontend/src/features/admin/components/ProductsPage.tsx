import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { Spinner } from '@/components/ui/Spinner';
import { formatMoney } from '@/lib/format';

import { useAdminProducts } from '../api/products';

export function ProductsPage() {
  const query = useAdminProducts();
  const products = query.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section aria-labelledby="admin-products">
      <h2 id="admin-products" className="mb-4 text-xl font-semibold">
        Products
      </h2>
      {query.isPending ? <Spinner label="Loading products…" /> : null}
      {query.isError ? <ErrorMessage error={query.error} title="Could not load products" onRetry={() => void query.refetch()} /> : null}
      {products.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="w-full border-collapse bg-white text-left text-sm">
            <thead>
              <tr className="border-b border-stone-200">
                <th scope="col" className="p-2">Title</th>
                <th scope="col" className="p-2">Brand</th>
                <th scope="col" className="p-2">Variants</th>
                <th scope="col" className="p-2">From</th>
                <th scope="col" className="p-2">Status</th>
                <th scope="col" className="p-2">Version</th>
              </tr>
            </thead>
            <tbody>
              {products.map((product) => {
                const cheapest = [...product.variants].sort((a, b) => a.price_minor - b.price_minor)[0];
                return (
                  <tr key={product.id} className="border-b border-stone-100">
                    <td className="p-2">
                      <Link className="underline" to={`/admin/products/${product.id}`}>
                        {product.title}
                      </Link>
                    </td>
                    <td className="p-2">{product.brand.name}</td>
                    <td className="p-2">{product.variants.length}</td>
                    <td className="p-2">{cheapest ? formatMoney(cheapest.price_minor, cheapest.currency) : '—'}</td>
                    <td className="p-2">{product.published ? 'Published' : 'Hidden'}</td>
                    <td className="p-2">{product.version}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {query.hasNextPage ? (
        <Button variant="secondary" className="mt-4" busy={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
          Show more
        </Button>
      ) : null}
    </section>
  );
}
