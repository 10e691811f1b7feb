import { useState, type FormEvent } from 'react';

import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextField } from '@/components/ui/Field';

import { useAdjustStock, useRestock, useStock } from '../api/stock';

/**
 * One SKU's ledger (on hand = unallocated + allocated + sold), a restock
 * form and a count correction (units found or lost, with the reason).
 */
export function StockPanel({ sku }: { sku: string }) {
  const stock = useStock(sku);
  const restock = useRestock(sku);
  const [quantity, setQuantity] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const units = Number(quantity);
    if (Number.isInteger(units) && units > 0) restock.mutate({ quantity: units }, { onSuccess: () => setQuantity('') });
  };
  return (
    <div className="rounded border border-stone-200 bg-stone-50 p-3 text-sm" aria-label={`Stock of ${sku}`} role="region">
      <Async query={stock} errorTitle={`Could not load the stock of ${sku}`}>
        {(ledger) => (
          <dl className="grid grid-cols-4 gap-2">
            <div>
              <dt className="text-stone-700">On hand</dt>
              <dd>{ledger.on_hand}</dd>
            </div>
            <div>
              <dt className="text-stone-700">Unallocated</dt>
              <dd>{ledger.unallocated}</dd>
            </div>
            <div>
              <dt className="text-stone-700">With cells</dt>
              <dd>{ledger.allocated}</dd>
            </div>
            <div>
              <dt className="text-stone-700">Sold</dt>
              <dd>{ledger.sold}</dd>
            </div>
            {ledger.cells.map((cell) => (
              <div key={cell.cell} className="col-span-4 text-xs text-stone-700">
                {cell.cell}: {cell.allocated} held, {cell.sold} sold
              </div>
            ))}
          </dl>
        )}
      </Async>
      {/* A nested form is invalid HTML: this one is its own element beside the product form. */}
      <form onSubmit={submit} className="mt-2 flex items-end gap-2">
        <TextField label={`Units arrived for ${sku}`} type="number" min={1} value={quantity} onChange={(e) => setQuantity(e.target.value)} />
        <Button type="submit" variant="secondary" busy={restock.isPending} disabled={quantity === ''}>
          Restock
        </Button>
      </form>
      {restock.isError ? <ErrorMessage error={restock.error} title="Could not restock" /> : null}
      <AdjustForm sku={sku} />
    </div>
  );
}

/** Corrects the count after a stocktake: +found or −lost (a loss comes out of unallocated units only). */
function AdjustForm({ sku }: { sku: string }) {
  const adjust = useAdjustStock(sku);
  const [delta, setDelta] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const units = Number(delta);
    if (!Number.isInteger(units) || units === 0) {
      setProblem('A whole number of units, not 0: + for units found, − for units lost.');
      return;
    }
    if (reason.trim() === '') {
      setProblem('Say why the count changed.');
      return;
    }
    setProblem(undefined);
    adjust.mutate(
      { delta: units, reason: reason.trim() },
      {
        onSuccess: () => {
          setDelta('');
          setReason('');
        },
      },
    );
  };
  return (
    <form onSubmit={submit} className="mt-2 flex flex-wrap items-end gap-2" aria-label={`Correct the count of ${sku}`}>
      <TextField
        label={`Units found (+) or lost (−) for ${sku}`}
        type="number"
        step={1}
        value={delta}
        onChange={(e) => setDelta(e.target.value)}
        error={problem}
      />
      <TextField label="Reason" maxLength={200} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Stocktake, damaged, found…" />
      <Button type="submit" variant="secondary" busy={adjust.isPending} disabled={delta === ''}>
        Correct count
      </Button>
      {adjust.isError ? <ErrorMessage error={adjust.error} title="Could not correct the count" /> : null}
    </form>
  );
}
