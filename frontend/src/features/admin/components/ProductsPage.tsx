import { Link } from 'react-router-dom';

import type { ProductSnapshot } from '@/api/wire/ProductSnapshot';
import { DataTable, type Column } from '@/components/DataTable';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { LoadMore } from '@/components/ui/LoadMore';
import { Spinner } from '@/components/ui/Spinner';
import { formatMoney } from '@/lib/format';

import { useAdminProducts } from '../api/products';

function cheapest(product: ProductSnapshot): string {
  const variant = [...product.variants].sort((a, b) => a.price_minor - b.price_minor)[0];
  return variant ? formatMoney(variant.price_minor, variant.currency) : '—';
}

const COLUMNS: Column<ProductSnapshot>[] = [
  {
    header: 'Title',
    cell: (product) => (
      <Link className="underline" to={`/admin/products/${product.id}`}>
        {product.title}
      </Link>
    ),
  },
  { header: 'Brand', cell: (product) => product.brand.name },
  { header: 'Variants', cell: (product) => product.variants.length },
  { header: 'From', cell: cheapest },
  { header: 'Status', cell: (product) => (product.published ? 'Published' : 'Hidden') },
  { header: 'Version', cell: (product) => product.version },
];

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
      {products.length > 0 ? <DataTable columns={COLUMNS} rows={products} rowKey={(product) => product.id} /> : null}
      <LoadMore query={query} className="mt-4" />
    </section>
  );
}
