import { NavLink } from 'react-router-dom';

import type { UserResponse } from '@/api/wire/UserResponse';
import { hasRole } from '@/lib/session';

export type NavItem = { to: string; label: string; end?: boolean };

type LinkClass = (state: { isActive: boolean }) => string;

/** A section's tabs. */
export const tab: LinkClass = ({ isActive }) => `rounded px-3 py-2 text-sm ${isActive ? 'bg-stone-200 font-medium' : 'hover:bg-stone-100'}`;

export function NavItems({ items, linkClass }: { items: readonly NavItem[]; linkClass: LinkClass }) {
  return (
    <>
      {items.map((item) => (
        <NavLink key={item.to} end={item.end} to={item.to} className={linkClass}>
          {item.label}
        </NavLink>
      ))}
    </>
  );
}

/** The control plane's pages `user` may open: the cells for SREs, the audit log for SREs and admins. */
export function controlSections(user: UserResponse | null): NavItem[] {
  const sre = hasRole(user, 'sre');
  const items: NavItem[] = sre ? [{ to: '/control', label: 'Cells', end: true }] : [];
  if (sre || hasRole(user, 'admin')) items.push({ to: '/control/audit', label: 'Audit log' });
  return items;
}
