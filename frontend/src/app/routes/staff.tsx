import { Outlet, useParams } from 'react-router-dom';

import { AdminOrderPage, ImportPage, ProductEditPage, ProductsPage, PromotionsPage, StaffOrdersPage } from '@/features/admin';
import { AuditLogPage, CellsPage } from '@/features/control';
import { useSession } from '@/lib/session';

import { NotFound } from '../guards';
import { controlSections, NavItems, tab, type NavItem } from '../nav';

// Loaded on demand: shoppers never download the staff pages.

function StaffArea({ title, sections }: { title: string; sections: readonly NavItem[] }) {
  return (
    <div>
      <h1 className="mb-3 text-2xl font-semibold">{title}</h1>
      <nav aria-label={`${title} sections`} className="mb-6 flex flex-wrap gap-1">
        <NavItems items={sections} linkClass={tab} />
      </nav>
      <Outlet />
    </div>
  );
}

const ADMIN_SECTIONS: NavItem[] = [
  { to: '/admin', label: 'Products', end: true },
  { to: '/admin/import', label: 'Import' },
  { to: '/admin/promotions', label: 'Promotions' },
  { to: '/admin/orders', label: 'Orders' },
];

export function AdminLayout() {
  return <StaffArea title="Admin" sections={ADMIN_SECTIONS} />;
}

export function AdminProductRoute() {
  const { id } = useParams();
  if (!id) return <NotFound />;
  return <ProductEditPage productId={id} />;
}

export function AdminOrderRoute() {
  const { cell, id } = useParams();
  if (!cell || !id) return <NotFound />;
  return <AdminOrderPage key={`${cell}/${id}`} cell={cell} orderId={id} />;
}

/** The control plane's pages: the cells for SREs, the audit log for SREs and admins. */
export function ControlLayout() {
  const user = useSession((state) => state.user);
  return <StaffArea title="Control plane" sections={controlSections(user)} />;
}

export { AuditLogPage, CellsPage, ImportPage, ProductsPage, PromotionsPage, StaffOrdersPage };
