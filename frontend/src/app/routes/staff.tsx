import { NavLink, Outlet, useParams } from 'react-router-dom';

import { ImportPage, ProductEditPage, ProductsPage, PromotionsPage, StaffOrdersPage } from '@/features/admin';
import { CellsPage } from '@/features/control';

import { NotFound } from '../guards';

// Loaded on demand: shoppers never download the staff pages.

const tab = ({ isActive }: { isActive: boolean }) => `rounded px-3 py-2 text-sm ${isActive ? 'bg-stone-200 font-medium' : 'hover:bg-stone-100'}`;

export function AdminLayout() {
  return (
    <div>
      <h1 className="mb-3 text-2xl font-semibold">Admin</h1>
      <nav aria-label="Admin sections" className="mb-6 flex flex-wrap gap-1">
        <NavLink end to="/admin" className={tab}>
          Products
        </NavLink>
        <NavLink to="/admin/import" className={tab}>
          Import
        </NavLink>
        <NavLink to="/admin/promotions" className={tab}>
          Promotions
        </NavLink>
        <NavLink to="/admin/orders" className={tab}>
          Orders
        </NavLink>
      </nav>
      <Outlet />
    </div>
  );
}

export function AdminProductRoute() {
  const { id } = useParams();
  if (!id) return <NotFound />;
  return <ProductEditPage productId={id} />;
}

export function ControlRoute() {
  return (
    <div>
      <h1 className="mb-3 text-2xl font-semibold">Control plane</h1>
      <CellsPage />
    </div>
  );
}

export { ImportPage, ProductsPage, PromotionsPage, StaffOrdersPage };
