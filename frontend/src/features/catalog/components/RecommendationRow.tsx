import { ProductGrid } from '@/components/ProductCard';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { Spinner } from '@/components/ui/Spinner';

import { useRecommendations, type RecommendationList } from '../api/recommendations';

type Props = {
  list: RecommendationList;
  title: string;
  limit?: number;
  /** Hide the row when the server fell back to another list (a guest's "for you" is trending). */
  hideFallback?: boolean;
};

/** One titled row of picks; hides itself when the list is empty. */
export function RecommendationRow({ list, title, limit = 8, hideFallback = false }: Props) {
  const query = useRecommendations(list, limit);
  const headingId = `rec-${list.kind}`;
  if (query.isSuccess && query.data.items.length === 0) return null;
  if (hideFallback && query.isSuccess && query.data.fallback) return null;
  return (
    <section aria-labelledby={headingId} className="py-6">
      <h2 id={headingId} className="mb-4 text-xl font-semibold">
        {title}
      </h2>
      {query.isPending ? <Spinner /> : null}
      {query.isError ? <ErrorMessage error={query.error} title={`Could not load “${title}”`} onRetry={() => void query.refetch()} /> : null}
      {query.isSuccess ? <ProductGrid products={query.data.items} label={title} /> : null}
    </section>
  );
}
