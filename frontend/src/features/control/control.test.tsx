import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { aCell, aDrain, anAuditEntry, anAuditPage, someCells } from '@/testing/fixtures';
import { apiError } from '@/testing/handlers';
import { renderWithProviders } from '@/testing/render';
import { server } from '@/testing/server';

import { AuditLogPage } from './components/AuditLogPage';
import { CellsPage } from './components/CellsPage';

describe('cells page', () => {
  it('drains a cell only after a confirmation with a reason, then follows its progress', async () => {
    let cells = someCells();
    const drains: unknown[] = [];
    let polls = 0;
    server.use(
      http.get('*/control/api/cells', () => HttpResponse.json(cells)),
      http.post('*/control/api/cells/:id/drain', async ({ request, params }) => {
        drains.push({ id: params.id, body: await request.json() });
        cells = someCells([aCell({ state: 'draining', weight: 0 }), aCell({ id: 'cell-2' })], 8);
        return HttpResponse.json(aDrain(), { status: 202 });
      }),
      http.get('*/control/api/cells/:id/drain', () => {
        polls += 1;
        return HttpResponse.json(polls < 2 ? aDrain({ shoppers_moved: 4 }) : aDrain({ state: 'done', shoppers_moved: 5, shoppers_in_progress: 0, finished_at: '2026-11-26T10:05:00Z' }));
      }),
    );
    const { user } = renderWithProviders(<CellsPage pollMs={20} />);

    const row = (await screen.findByRole('rowheader', { name: 'cell-1' })).closest('tr') as HTMLElement;
    await user.click(within(row).getByRole('button', { name: 'Drain cell cell-1' }));

    const dialog = screen.getByRole('dialog', { name: 'Drain cell cell-1?' });
    expect(dialog).toHaveTextContent(/every shopper on it/);
    const confirm = within(dialog).getByRole('button', { name: 'Drain cell' });
    expect(confirm).toBeDisabled();
    expect(within(dialog).getByLabelText(/Reason/)).toHaveFocus();

    // Cancelling sends nothing.
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(drains).toEqual([]);

    await user.click(within(row).getByRole('button', { name: 'Drain cell cell-1' }));
    await user.type(screen.getByLabelText(/Reason/), 'hardware retirement');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Drain cell' }));

    expect(drains).toEqual([{ id: 'cell-1', body: { reason: 'hardware retirement' } }]);
    const progress = await screen.findByRole('region', { name: 'Drain of cell-1' });
    await waitFor(() => expect(progress).toHaveTextContent('done'));
    expect(progress).toHaveTextContent(/Shoppers moved\s*5/);
    expect(await screen.findByText('Routing table version 8')).toBeInTheDocument();
  });

  it('shows health, weights and the refusal of an illegal change', async () => {
    server.use(
      http.get('*/control/api/cells', () =>
        HttpResponse.json(someCells([aCell(), aCell({ id: 'cell-2', state: 'failed', health: 'unreachable', shoppers: null })])),
      ),
      http.post('*/control/api/cells/:id/recover', () =>
        apiError(409, 'illegal_cell_transition', 'cell-2 is not failed.'),
      ),
    );
    const { user } = renderWithProviders(<CellsPage pollMs={60_000} />);
    const failed = (await screen.findByRole('rowheader', { name: 'cell-2' })).closest('tr') as HTMLElement;
    expect(failed).toHaveTextContent('unreachable');
    expect(failed).toHaveTextContent('not counted');
    const counted = screen.getByRole('rowheader', { name: 'cell-1' }).closest('tr') as HTMLElement;
    expect(counted).toHaveTextContent('12 accounts, 3 guests');
    expect(screen.getByLabelText('Weight of cell-1')).toHaveValue(100);
    await user.click(within(failed).getByRole('button', { name: 'Recover cell-2' }));
    await user.type(screen.getByLabelText(/Reason/), 'back up');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Recover' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('cell-2 is not failed.');
  });
});

describe('audit log', () => {
  /** Answers from `pages` by the `before` cursor, recording each request's parameters. */
  function auditBackend(pages: Record<string, ReturnType<typeof anAuditPage>>) {
    const seen: URLSearchParams[] = [];
    server.use(
      http.get('*/control/api/audit', ({ request }) => {
        const params = new URL(request.url).searchParams;
        seen.push(params);
        return HttpResponse.json(pages[params.get('before') ?? 'first'] ?? anAuditPage([]));
      }),
    );
    return seen;
  }

  it('lists entries with a readable detail', async () => {
    auditBackend({
      first: anAuditPage([
        anAuditEntry(),
        anAuditEntry({ id: 41, action: 'cell.weight', actor: 'user:u-8', subject: 'cell-2', detail: { from: 100, to: 50, note: null }, request_id: null }),
        anAuditEntry({ id: 40, action: 'product.publish', subject: 'product:9', detail: 'published' }),
        anAuditEntry({ id: 39, action: 'product.update', subject: 'product:9', detail: { changed: ['title', 'variants'], diff: { title: ['a', 'b'] } } }),
      ]),
    });
    renderWithProviders(<AuditLogPage />);
    const table = await screen.findByRole('table', { name: 'Audit log entries, newest first' });
    const drain = within(table).getByRole('rowheader', { name: 'cell.drain' }).closest('tr') as HTMLElement;
    expect(drain).toHaveTextContent('user:u-7');
    expect(drain).toHaveTextContent('cell-1');
    expect(drain).toHaveTextContent('Reason: hardware retirement');
    expect(drain).toHaveTextContent('Request req-drain-1');
    expect(within(drain).getByText(/2026/).closest('time')).toHaveAttribute('datetime', '2026-11-26T10:00:00Z');
    const weight = within(table).getByRole('rowheader', { name: 'cell.weight' }).closest('tr') as HTMLElement;
    expect(weight).toHaveTextContent('From: 100');
    expect(weight).toHaveTextContent('To: 50');
    expect(weight).toHaveTextContent('Note: —');
    expect(within(table).getByRole('rowheader', { name: 'product.publish' }).closest('tr')).toHaveTextContent('published');
    const update = within(table).getByRole('rowheader', { name: 'product.update' }).closest('tr') as HTMLElement;
    expect(update).toHaveTextContent('Changed: title, variants');
    expect(update).toHaveTextContent('Diff: {"title":["a","b"]}');
    expect(screen.queryByRole('button', { name: 'Load older' })).not.toBeInTheDocument();
  });

  it('sends the filters as query parameters, trimmed, and clears them', async () => {
    const seen = auditBackend({ first: anAuditPage([]) });
    const { user } = renderWithProviders(<AuditLogPage />);
    expect(await screen.findByText('Nothing has been recorded yet.')).toBeInTheDocument();
    expect(seen[0]?.toString()).toBe('limit=50');

    await user.type(screen.getByLabelText('Action starts with'), 'cell.');
    await user.type(screen.getByLabelText('Actor'), ' user:u-7 ');
    await user.type(screen.getByLabelText('Subject'), 'cell-1');
    await user.click(screen.getByRole('button', { name: 'Filter' }));

    expect(await screen.findByText('No entries match these filters.')).toBeInTheDocument();
    const sent = seen.at(-1);
    expect(sent?.get('action')).toBe('cell.');
    expect(sent?.get('actor')).toBe('user:u-7');
    expect(sent?.get('subject')).toBe('cell-1');
    expect(sent?.get('limit')).toBe('50');
    expect(sent?.has('before')).toBe(false);

    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(await screen.findByText('Nothing has been recorded yet.')).toBeInTheDocument();
    expect(screen.getByLabelText('Action starts with')).toHaveValue('');
  });

  it('loads older entries with the cursor of the page before', async () => {
    const seen = auditBackend({
      first: anAuditPage([anAuditEntry({ id: 42 }), anAuditEntry({ id: 41, action: 'cell.fail' })], '41'),
      '41': anAuditPage([anAuditEntry({ id: 40, action: 'cell.recover' })], null),
    });
    const { user } = renderWithProviders(<AuditLogPage />);
    const table = await screen.findByRole('table', { name: /Audit log entries/ });
    expect(within(table).getAllByRole('row')).toHaveLength(3);

    await user.click(screen.getByRole('button', { name: 'Load older' }));

    expect(await within(table).findByRole('rowheader', { name: 'cell.recover' })).toBeInTheDocument();
    expect(within(table).getAllByRole('row')).toHaveLength(4);
    expect(seen.at(-1)?.get('before')).toBe('41');
    expect(screen.queryByRole('button', { name: 'Load older' })).not.toBeInTheDocument();
  });

  it("shows the server's message when it refuses the query", async () => {
    server.use(http.get('*/control/api/audit', () => apiError(400, 'invalid_audit_query', 'subject: too long, or not plain text')));
    renderWithProviders(<AuditLogPage />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load the audit log');
    expect(alert).toHaveTextContent('subject: too long, or not plain text');
    expect(alert).toHaveTextContent('invalid_audit_query');
    expect(alert).toHaveTextContent('req-invalid_audit_query');
  });
});
