import { Suspense } from 'react';
import { Link, Outlet, ScrollRestoration, useRouteError } from 'react-router-dom';

import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { Spinner } from '@/components/ui/Spinner';
import { AccountMenu } from '@/features/auth';
import { CartCount } from '@/features/cart';
import { CategoryNav } from '@/features/catalog';
import { SearchBox } from '@/features/search';
import { hasRole, useSession } from '@/lib/session';

import { controlSections, NavItems } from './nav';

function StaffLinks() {
  const user = useSession((state) => state.user);
  const link = ({ isActive }: { isActive: boolean }) => `rounded px-2 py-1 ${isActive ? 'bg-stone-200' : 'hover:bg-stone-100'}`;
  const items = [...(hasRole(user, 'admin') ? [{ to: '/admin', label: 'Admin' }] : []), ...controlSections(user)];
  if (items.length === 0) return null;
  return (
    <nav aria-label="Staff" className="flex gap-2 text-xs">
      <NavItems items={items} linkClass={link} />
    </nav>
  );
}

export function Layout() {
  return (
    <div className="flex min-h-screen flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-stone-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-3 px-4 py-3">
          <Link to="/" className="text-xl font-semibold tracking-wider">
            CELLWEAR
          </Link>
          <div className="order-last w-full md:order-none md:w-auto md:flex-1">
            <SearchBox />
          </div>
          <div className="ml-auto flex items-center gap-1">
            <StaffLinks />
            <AccountMenu />
            <CartCount />
          </div>
        </div>
        <div className="mx-auto max-w-6xl px-4">
          <CategoryNav />
        </div>
      </header>
      <main id="main" className="mx-auto w-full max-w-6xl flex-1 px-4 py-6">
        <Suspense fallback={<Spinner />}>
          <Outlet />
        </Suspense>
      </main>
      <footer className="border-t border-stone-200 py-6 text-center text-xs text-stone-700">
        Cellwear · <a href="/docs/" className="underline">API documentation</a>
      </footer>
      <ScrollRestoration />
    </div>
  );
}

export function RouteError() {
  const error = useRouteError();
  return (
    <div className="mx-auto max-w-xl p-8">
      <ErrorMessage error={error} title="This page failed to load" onRetry={() => window.location.reload()} />
    </div>
  );
}
