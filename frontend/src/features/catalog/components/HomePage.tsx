import { useSession } from '@/lib/session';

import { RecommendationRow } from './RecommendationRow';

export function HomePage() {
  const signedIn = useSession((state) => state.status === 'authenticated');
  return (
    <div>
      <section className="rounded bg-accent px-6 py-10 text-white">
        <h1 className="text-3xl font-semibold tracking-wide">Cellwear</h1>
        <p className="mt-2 max-w-xl">Shirts, knitwear, tailoring and shoes for men — picked for you.</p>
      </section>
      <RecommendationRow list={{ kind: 'for_you' }} title={signedIn ? 'Picked for you' : 'You might like'} hideFallback />
      <RecommendationRow list={{ kind: 'trending' }} title="Trending now" />
    </div>
  );
}
