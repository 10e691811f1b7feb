import '@testing-library/jest-dom/vitest';

import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

import { useSession } from '@/lib/session';

import { server } from './server';

// jsdom has no layout: scrolling (ScrollRestoration) is a no-op here.
window.scrollTo = () => undefined;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));

beforeEach(() => {
  useSession.setState({ status: 'anonymous', accessToken: null, user: null });
});

afterEach(() => {
  cleanup();
  server.resetHandlers();
  for (const cookie of document.cookie.split(';')) {
    const name = cookie.split('=')[0]?.trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
  window.history.replaceState(null, '', '/');
});

afterAll(() => server.close());
