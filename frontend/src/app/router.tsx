import { lazy } from 'react';
import { createBrowserRouter, createMemoryRouter, type RouteObject } from 'react-router-dom';

import { NotFound, RequireAuth } from './guards';
import { Layout, RouteError } from './layout';
import { AccountLayout, AddressesRoute, EmailConfirmRoute, OrderRoute, OrdersRoute, ProfileRoute, SessionsRoute } from './routes/account';
import { LoginRoute, RegisterRoute } from './routes/auth';
import { CartRoute, CategoryRoute, CheckoutRoute, HomeRoute, ProductRoute, SearchRoute } from './routes/shop';

const staff = () => import('./routes/staff');
const AdminLayout = lazy(() => staff().then((m) => ({ default: m.AdminLayout })));
const AdminProducts = lazy(() => staff().then((m) => ({ default: m.ProductsPage })));
const AdminProduct = lazy(() => staff().then((m) => ({ default: m.AdminProductRoute })));
const AdminImport = lazy(() => staff().then((m) => ({ default: () => <m.ImportPage /> })));
const AdminPromotions = lazy(() => staff().then((m) => ({ default: m.PromotionsPage })));
const AdminOrders = lazy(() => staff().then((m) => ({ default: m.StaffOrdersPage })));
const AdminOrder = lazy(() => staff().then((m) => ({ default: m.AdminOrderRoute })));
const ControlLayout = lazy(() => staff().then((m) => ({ default: m.ControlLayout })));
const ControlCells = lazy(() => staff().then((m) => ({ default: () => <m.CellsPage /> })));
const ControlAudit = lazy(() => staff().then((m) => ({ default: m.AuditLogPage })));

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <HomeRoute /> },
      { path: 'search', element: <SearchRoute /> },
      { path: 'c/:slug', element: <CategoryRoute /> },
      { path: 'products/:slug', element: <ProductRoute /> },
      { path: 'cart', element: <CartRoute /> },
      { path: 'login', element: <LoginRoute /> },
      { path: 'register', element: <RegisterRoute /> },
      {
        path: 'checkout/:id',
        element: (
          <RequireAuth>
            <CheckoutRoute />
          </RequireAuth>
        ),
      },
      {
        path: 'account',
        element: (
          <RequireAuth>
            <AccountLayout />
          </RequireAuth>
        ),
        children: [
          { index: true, element: <ProfileRoute /> },
          { path: 'addresses', element: <AddressesRoute /> },
          { path: 'sessions', element: <SessionsRoute /> },
          // The link e-mailed to a new address; the guard above brings a guest back here after signing in.
          { path: 'email/confirm', element: <EmailConfirmRoute /> },
          { path: 'orders', element: <OrdersRoute /> },
          { path: 'orders/:id', element: <OrderRoute /> },
        ],
      },
      {
        path: 'admin',
        element: (
          <RequireAuth role="admin">
            <AdminLayout />
          </RequireAuth>
        ),
        children: [
          { index: true, element: <AdminProducts /> },
          { path: 'products/:id', element: <AdminProduct /> },
          { path: 'import', element: <AdminImport /> },
          { path: 'promotions', element: <AdminPromotions /> },
          { path: 'orders', element: <AdminOrders /> },
          { path: 'orders/:cell/:id', element: <AdminOrder /> },
        ],
      },
      {
        path: 'control',
        element: (
          <RequireAuth role="sre">
            <ControlLayout />
          </RequireAuth>
        ),
        children: [{ index: true, element: <ControlCells /> }],
      },
      {
        // Admins read the audit log too, so it has a guard of its own.
        path: 'control/audit',
        element: (
          <RequireAuth role={['sre', 'admin']}>
            <ControlLayout />
          </RequireAuth>
        ),
        children: [{ index: true, element: <ControlAudit /> }],
      },
      { path: '*', element: <NotFound /> },
    ],
  },
];

/** React Router 7's behaviour, opted into now (and its warnings silenced). */
const future = {
  v7_relativeSplatPath: true,
  v7_fetcherPersist: true,
  v7_normalizeFormMethod: true,
  v7_partialHydration: true,
  v7_skipActionErrorRevalidation: true,
} as const;

export function createAppRouter() {
  return createBrowserRouter(routes, { future });
}

/** For tests: the same routes in memory, starting at `path`. */
export function createTestRouter(path: string) {
  return createMemoryRouter(routes, { initialEntries: [path], future });
}
