import { formatMoney } from '@/lib/format';

type Props = { minor: number; currency: string; compareAt?: number | null; className?: string };

export function Price({ minor, currency, compareAt, className = '' }: Props) {
  const reduced = compareAt != null && compareAt > minor;
  return (
    <span className={className}>
      <span className={reduced ? 'font-semibold text-red-800' : 'font-semibold'}>{formatMoney(minor, currency)}</span>
      {reduced ? (
        <>
          {' '}
          <s className="text-sm text-stone-700">
            <span className="sr-only">was </span>
            {formatMoney(compareAt, currency)}
          </s>
        </>
      ) : null}
    </span>
  );
}
