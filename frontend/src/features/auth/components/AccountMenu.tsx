import { useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';

import { hasRole, useSession } from '@/lib/session';

import { useLogout } from '../api/logout';

/** The header's account button: sign-in link for guests, a menu for the signed in. */
export function AccountMenu() {
  const { status, user } = useSession();
  const logout = useLogout();
  const navigate = useNavigate();
  const location = useLocation();
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => setOpen(false), [location.pathname]);
  useEffect(() => {
    if (!open) return;
    const close = (event: MouseEvent | KeyboardEvent) => {
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !root.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  if (status !== 'authenticated' || !user) {
    return (
      <Link to={`/login?return_to=${encodeURIComponent(location.pathname + location.search)}`} className="rounded px-3 py-2 text-sm font-medium hover:bg-stone-100">
        Sign in
      </Link>
    );
  }
  const item = 'block px-4 py-2 text-sm hover:bg-stone-100 focus:bg-stone-100 focus:outline-none';
  return (
    <div className="relative" ref={root}>
      <button
        type="button"
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={menuId}
        aria-label={`Account menu for ${user.name}`}
        onClick={() => setOpen((value) => !value)}
        className="rounded px-3 py-2 text-sm font-medium hover:bg-stone-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-accent"
      >
        {user.name}
      </button>
      {open ? (
        <nav id={menuId} aria-label="Account" className="absolute right-0 z-40 mt-1 w-48 rounded border border-stone-200 bg-white py-1 shadow-lg">
          <Link className={item} to="/account">
            Profile
          </Link>
          <Link className={item} to="/account/orders">
            Orders
          </Link>
          <Link className={item} to="/account/addresses">
            Addresses
          </Link>
          <Link className={item} to="/account/sessions">
            Sessions
          </Link>
          {hasRole(user, 'admin') ? (
            <Link className={item} to="/admin">
              Admin
            </Link>
          ) : null}
          {hasRole(user, 'sre') ? (
            <Link className={item} to="/control">
              Cells
            </Link>
          ) : null}
          <button
            type="button"
            className={`${item} w-full text-left`}
            onClick={() => logout.mutate(undefined, { onSettled: () => navigate('/') })}
          >
            Sign out
          </button>
        </nav>
      ) : null}
    </div>
  );
}
