import { useState, type FormEvent } from 'react';

import type { CellView } from '@/api/wire/CellView';
import { DataTable, type Column } from '@/components/DataTable';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ConfirmDialog } from '@/components/ui/Dialog';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextAreaField, TextField } from '@/components/ui/Field';

import { useAddCell, useCells, useChangeCell, useSetWeight, useStartDrain, type CellAction } from '../api/cells';

import { DrainProgress } from './DrainProgress';

type Pending = { cell: CellView; action: CellAction | 'drain' };

const CONFIRM: Record<Pending['action'], { title: (id: string) => string; body: string; label: string; needsReason: boolean; danger: boolean }> = {
  drain: {
    title: (id) => `Drain cell ${id}?`,
    body: 'The cell takes no new shoppers, and every shopper on it (account, cart, orders) is moved to another cell. This cannot be undone from here.',
    label: 'Drain cell',
    needsReason: true,
    danger: true,
  },
  fail: {
    title: (id) => `Mark cell ${id} failed?`,
    body: 'Its shoppers get degraded service: browsing from a healthy cell, their writes refused, until it recovers.',
    label: 'Mark failed',
    needsReason: true,
    danger: true,
  },
  recover: { title: (id) => `Recover cell ${id}?`, body: 'The cell serves its shoppers again.', label: 'Recover', needsReason: true, danger: false },
  activate: { title: (id) => `Activate cell ${id}?`, body: 'The cell starts taking new shoppers by its weight.', label: 'Activate', needsReason: false, danger: false },
  remove: { title: (id) => `Remove cell ${id}?`, body: 'The cell leaves the routing table.', label: 'Remove', needsReason: false, danger: true },
};

function actionsFor(cell: CellView): Pending['action'][] {
  switch (cell.state) {
    case 'joining':
      return ['activate', 'remove'];
    case 'active':
      return ['drain', 'fail'];
    case 'failed':
      return ['recover'];
    case 'draining':
      return [];
    case 'drained':
      return ['remove'];
  }
}

function WeightEditor({ cell }: { cell: CellView }) {
  const setWeight = useSetWeight();
  const [weight, setDraft] = useState(String(cell.weight));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setWeight.mutate({ id: cell.id, weight: Number(weight) });
  };
  return (
    <form onSubmit={submit} className="flex items-center gap-1">
      <label htmlFor={`weight-${cell.id}`} className="sr-only">
        Weight of {cell.id}
      </label>
      <input id={`weight-${cell.id}`} type="number" min={0} max={10000} className="w-20 rounded border border-stone-500 px-2 py-1" value={weight} onChange={(e) => setDraft(e.target.value)} />
      <Button type="submit" variant="ghost" className="min-h-8 px-2 py-1 underline" busy={setWeight.isPending} disabled={weight === String(cell.weight)}>
        Set
      </Button>
      {setWeight.isError ? <span className="text-xs text-red-800">{(setWeight.error as Error).message}</span> : null}
    </form>
  );
}

function AddCell() {
  const add = useAddCell();
  const [id, setId] = useState('');
  const [address, setAddress] = useState('');
  const [weight, setWeight] = useState('100');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ id, http_address: address, weight: Number(weight) }, { onSuccess: () => setId('') });
  };
  return (
    <form onSubmit={submit} aria-label="Add a cell" className="grid gap-3 rounded border border-stone-200 bg-white p-4 sm:grid-cols-4 sm:items-end">
      <TextField label="Cell id" required value={id} onChange={(e) => setId(e.target.value)} />
      <TextField label="HTTP address (ip:port)" required value={address} onChange={(e) => setAddress(e.target.value)} />
      <TextField label="Weight once active" type="number" min={0} max={10000} value={weight} onChange={(e) => setWeight(e.target.value)} />
      <Button type="submit" busy={add.isPending}>
        Add cell
      </Button>
      {add.isError ? (
        <div className="sm:col-span-4">
          <ErrorMessage error={add.error} title="Could not add the cell" />
        </div>
      ) : null}
    </form>
  );
}

/** SRE view of the cells: health, weights, routing version; add, drain, fail, recover with confirmations. */
export function CellsPage({ pollMs }: { pollMs?: number }) {
  const cells = useCells(pollMs);
  const change = useChangeCell();
  const drain = useStartDrain();
  const [pending, setPending] = useState<Pending | null>(null);
  const [reason, setReason] = useState('');
  const [watching, setWatching] = useState<string | null>(null);

  const close = () => {
    setPending(null);
    setReason('');
  };
  const confirm = () => {
    if (!pending) return;
    const id = pending.cell.id;
    if (pending.action === 'drain') {
      drain.mutate({ id, reason }, { onSuccess: () => setWatching(id), onSettled: close });
    } else {
      change.mutate({ id, action: pending.action, reason }, { onSettled: close });
    }
  };
  const spec = pending ? CONFIRM[pending.action] : null;
  const columns: Column<CellView>[] = [
    { header: 'Cell', cell: (cell) => cell.id, rowHeader: true },
    { header: 'Address', cell: (cell) => cell.http_address },
    { header: 'State', cell: (cell) => cell.state },
    { header: 'Health', cell: (cell) => <span className={cell.health === 'ready' ? 'text-green-800' : 'text-red-800'}>{cell.health}</span> },
    {
      header: 'Shoppers',
      cell: (cell) =>
        cell.shoppers ? (
          <span>
            {cell.shoppers.accounts} accounts, {cell.shoppers.guests} guests
          </span>
        ) : (
          <span className="text-stone-700">not counted</span>
        ),
    },
    { header: 'Pinned shoppers', cell: (cell) => cell.pinned_shoppers },
    { header: 'Weight', cell: (cell) => (cell.state === 'active' || cell.state === 'joining' ? <WeightEditor key={cell.weight} cell={cell} /> : cell.weight) },
    {
      header: 'Actions',
      className: 'flex flex-wrap gap-1 p-2',
      cell: (cell) => (
        <>
          {actionsFor(cell).map((action) => (
            <Button key={action} variant={CONFIRM[action].danger ? 'danger' : 'secondary'} className="min-h-8 px-2 py-1" onClick={() => setPending({ cell, action })}>
              {CONFIRM[action].label}
              <span className="sr-only"> {cell.id}</span>
            </Button>
          ))}
          {cell.state === 'draining' || cell.state === 'drained' ? (
            <Button variant="ghost" className="min-h-8 px-2 py-1 underline" onClick={() => setWatching(cell.id)}>
              Drain progress<span className="sr-only"> of {cell.id}</span>
            </Button>
          ) : null}
        </>
      ),
    },
  ];

  return (
    <section aria-labelledby="cells-title" className="space-y-4">
      <h2 id="cells-title" className="text-xl font-semibold">
        Cells
      </h2>
      {change.isError ? <ErrorMessage error={change.error} title="The change was refused" /> : null}
      {drain.isError ? <ErrorMessage error={drain.error} title="The drain did not start" /> : null}
      <Async query={cells} errorTitle="Could not load the cells">
        {(list) => (
          <>
            <p className="text-sm text-stone-700">Routing table version {list.routing_version}</p>
            <DataTable columns={columns} rows={list.cells} rowKey={(cell) => cell.id} />
          </>
        )}
      </Async>
      {watching ? <DrainProgress cellId={watching} pollMs={pollMs} /> : null}
      <h3 className="pt-4 font-semibold">Add a cell</h3>
      <AddCell />
      <ConfirmDialog
        open={pending !== null}
        title={spec && pending ? spec.title(pending.cell.id) : ''}
        confirmLabel={spec?.label ?? ''}
        danger={spec?.danger}
        busy={change.isPending || drain.isPending}
        confirmDisabled={Boolean(spec?.needsReason) && reason.trim() === ''}
        onCancel={close}
        onConfirm={confirm}
      >
        <p>{spec?.body}</p>
        {spec?.needsReason ? (
          <TextAreaField className="mt-3" id="cell-change-reason" label="Reason (kept in the audit log)" value={reason} onChange={(e) => setReason(e.target.value)} />
        ) : null}
      </ConfirmDialog>
    </section>
  );
}
