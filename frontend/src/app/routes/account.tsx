import { NavLink, Outlet, useParams } from 'react-router-dom';

import { AddressesPage, EmailConfirmPage, ProfilePage, SessionsPage } from '@/features/account';
import { OrderDetailPage, OrdersPage } from '@/features/orders';

import { NotFound } from '../guards';

const tab = ({ isActive }: { isActive: boolean }) => `block rounded px-3 py-2 text-sm ${isActive ? 'bg-stone-200 font-medium' : 'hover:bg-stone-100'}`;

export function AccountLayout() {
  return (
    <div className="grid gap-6 md:grid-cols-[12rem_1fr]">
      <nav aria-label="Account sections">
        <h1 className="mb-3 text-2xl font-semibold">Account</h1>
        <ul className="flex gap-1 overflow-x-auto md:block md:space-y-1">
          <li>
            <NavLink end to="/account" className={tab}>
              Profile
            </NavLink>
          </li>
          <li>
            <NavLink to="/account/orders" className={tab}>
              Orders
            </NavLink>
          </li>
          <li>
            <NavLink to="/account/addresses" className={tab}>
              Addresses
            </NavLink>
          </li>
          <li>
            <NavLink to="/account/sessions" className={tab}>
              Sessions
            </NavLink>
          </li>
        </ul>
      </nav>
      <div>
        <Outlet />
      </div>
    </div>
  );
}

export const ProfileRoute = ProfilePage;
export const AddressesRoute = AddressesPage;
export const SessionsRoute = SessionsPage;
export const EmailConfirmRoute = EmailConfirmPage;
export const OrdersRoute = OrdersPage;

export function OrderRoute() {
  const { id } = useParams();
  if (!id) return <NotFound />;
  return <OrderDetailPage orderId={id} />;
}
