import { screen, waitFor, within } from '@testing-library/react';
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';

import { aCell, aDrain, someCells } from '@/testing/fixtures';
import { renderWithProviders } from '@/testing/render';
import { server } from '@/testing/server';

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
        HttpResponse.json(someCells([aCell(), aCell({ id: 'cell-2', state: 'failed', health: 'unreachable' })])),
      ),
      http.post('*/control/api/cells/:id/recover', () =>
        HttpResponse.json({ error: { code: 'illegal_cell_transition', message: 'cell-2 is not failed.' } }, { status: 409 }),
      ),
    );
    const { user } = renderWithProviders(<CellsPage pollMs={60_000} />);
    const failed = (await screen.findByRole('rowheader', { name: 'cell-2' })).closest('tr') as HTMLElement;
    expect(failed).toHaveTextContent('unreachable');
    expect(screen.getByLabelText('Weight of cell-1')).toHaveValue(100);
    await user.click(within(failed).getByRole('button', { name: 'Recover cell-2' }));
    await user.type(screen.getByLabelText(/Reason/), 'back up');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Recover' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('cell-2 is not failed.');
  });
});
