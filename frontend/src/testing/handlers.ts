import { http, HttpResponse } from 'msw';

import type { ChangeEmailRequest } from '@/api/wire/ChangeEmailRequest';
import type { ConfirmEmailRequest } from '@/api/wire/ConfirmEmailRequest';
import type { ErrorBody } from '@/api/wire/ErrorBody';

import { aCart, anEmailChangePending, aUser, emptyFacets } from './fixtures';

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

/** The bodies the e-mail change endpoints received, for tests that check what was sent. */
export type EmailChangeCalls = { requested: ChangeEmailRequest[]; confirmed: ConfirmEmailRequest[] };

/**
 * `POST /api/me/email` and `POST /api/me/email/confirm`. Asking refuses the
 * password `wrong password` (403) and the account's own address (422); any
 * other ask is pending until `anEmailChangePending().expires_at`. Confirming
 * refuses the token `expired` (410) and `used` (400); any other token moves
 * `aUser()` to `anEmailChangePending().email`.
 */
export function emailChangeHandlers(calls: EmailChangeCalls = { requested: [], confirmed: [] }) {
  return [
    http.post('*/api/me/email', async ({ request }) => {
      const body = (await request.json()) as ChangeEmailRequest;
      calls.requested.push(body);
      if (body.password === 'wrong password') return apiError(403, 'wrong_password', 'The password is wrong.');
      if (body.email.toLowerCase() === aUser().email) return apiError(422, 'email_unchanged', 'That is already your e-mail address.');
      return HttpResponse.json(anEmailChangePending({ email: body.email }), { status: 202 });
    }),
    http.post('*/api/me/email/confirm', async ({ request }) => {
      const body = (await request.json()) as ConfirmEmailRequest;
      calls.confirmed.push(body);
      if (body.token === 'expired') return apiError(410, 'email_token_expired', 'This link has expired. Ask for a new one from your profile.');
      if (body.token === 'used') {
        return apiError(400, 'invalid_email_token', 'This link is not valid. Sign in to the account that asked for the change, then open it again.');
      }
      return HttpResponse.json(aUser({ email: anEmailChangePending().email }));
    }),
  ];
}
