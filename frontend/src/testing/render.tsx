import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
import { MemoryRouter, Route, RouterProvider, Routes, useLocation } from 'react-router-dom';

import type { UserResponse } from '@/api/wire/UserResponse';
import { createTestRouter } from '@/app/router';
import { useSession } from '@/lib/session';

import { aUser } from './fixtures';

export function testQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, gcTime: Infinity, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

/** Signs the test in as `user` (roles as given), with an access token `token`. */
export function signIn(roles: string[] = ['user'], token = 'token-1'): UserResponse {
  const user = aUser({ roles });
  useSession.setState({ status: 'authenticated', accessToken: token, user });
  return user;
}

/** Shows the current location, so tests can check navigation. */
function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

/** One component with the providers it needs, at `path` (routes: `pattern`). */
export function renderWithProviders(ui: ReactElement, { path = '/', pattern = '*' }: { path?: string; pattern?: string } = {}) {
  const queryClient = testQueryClient();
  const user = userEvent.setup({ delay: null });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={[path]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        <Routes>
          <Route path={pattern} element={ui} />
        </Routes>
        <LocationProbe />
      </MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...result, user, queryClient };
}

/** The whole app (shell, routes, guards) at `path`. */
export function renderApp(path: string) {
  const queryClient = testQueryClient();
  const router = createTestRouter(path);
  const user = userEvent.setup({ delay: null });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} future={{ v7_startTransition: true }} />
    </QueryClientProvider>,
  );
  return { ...result, user, router, queryClient };
}
