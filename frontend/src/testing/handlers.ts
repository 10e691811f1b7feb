import { http, HttpResponse } from 'msw';

import type { ErrorBody } from '@/api/wire/ErrorBody';

import { aCart, emptyFacets } from './fixtures';

/** What the shell asks for on every page, answered empty; tests override what they exercise. */
export const defaultHandlers = [
  http.get('*/api/cart', () => HttpResponse.json(aCart())),
  http.get('*/api/categories', () => HttpResponse.json({ items: [] })),
  http.get('*/api/recommendations/trending', () => HttpResponse.json({ kind: 'trending', items: [] })),
  http.get('*/api/recommendations/for-you', () => HttpResponse.json({ kind: 'for_you', fallback: 'trending', items: [] })),
  http.get('*/api/search/suggest', ({ request }) =>
    HttpResponse.json({ query: new URL(request.url).searchParams.get('q') ?? '', items: [] }),
  ),
  http.get('*/api/search', () =>
    HttpResponse.json({ query: '', mode: 'text', total: 0, page: 1, limit: 24, items: [], facets: emptyFacets(), relaxed: false }),
  ),
];

/** The error body every service answers with: `ErrorBody`, flat. */
export function apiError(status: number, code: string, message: string, init: { headers?: Record<string, string> } = {}) {
  const body: ErrorBody = { code, message, request_id: `req-${code}` };
  return HttpResponse.json(body, { status, headers: init.headers });
}
