import type { ReactNode } from 'react';

export type Column<T> = {
  /** The column's heading (`<th scope="col">`). */
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** The cell names its row (`<th scope="row">`): screen readers announce it with every other cell. */
  rowHeader?: boolean;
  /** Replaces the cell's default padding class. */
  className?: string;
};

type Props<T> = {
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  /** The table's accessible name (a visually hidden caption). */
  caption?: string;
};

/** The staff pages' table: one row per item, scrolling sideways on a narrow screen. */
export function DataTable<T>({ columns, rows, rowKey, caption }: Props<T>) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full bg-white text-left text-sm">
        {caption ? <caption className="sr-only">{caption}</caption> : null}
        <thead>
          <tr className="border-b border-stone-200">
            {columns.map((column, index) => (
              <th key={index} scope="col" className="p-2">
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} className="border-b border-stone-100">
              {columns.map((column, index) =>
                column.rowHeader ? (
                  <th key={index} scope="row" className={column.className ?? 'p-2 font-medium'}>
                    {column.cell(row)}
                  </th>
                ) : (
                  <td key={index} className={column.className ?? 'p-2'}>
                    {column.cell(row)}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
