import type { ReactNode } from 'react';

import { Button } from './Button';

type Pages = { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => Promise<unknown> };

/** The next page of an infinite query, on demand; nothing once the last page is in. */
export function LoadMore({ query, children = 'Show more', className = '' }: { query: Pages; children?: ReactNode; className?: string }) {
  if (!query.hasNextPage) return null;
  return (
    <Button variant="secondary" className={className} busy={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
      {children}
    </Button>
  );
}
