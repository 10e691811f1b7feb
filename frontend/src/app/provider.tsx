import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';

import { restoreSession } from '@/features/auth';
import { createQueryClient } from '@/lib/query-client';

/** Server state and the session restored from the refresh cookie, once, at start-up. */
export function AppProvider({ children, queryClient }: { children: ReactNode; queryClient?: QueryClient }) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  useEffect(() => {
    void restoreSession();
  }, []);
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
