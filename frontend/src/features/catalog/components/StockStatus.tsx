import type { Availability } from '@/api/wire/Availability';

export function StockStatus({ availability }: { availability: Availability }) {
  if (availability.status === 'out_of_stock') {
    return <p className="text-sm font-medium text-red-800">Out of stock</p>;
  }
  if (availability.status === 'low_stock') {
    return <p className="text-sm font-medium text-amber-800">Only {availability.quantity} left</p>;
  }
  return <p className="text-sm font-medium text-green-800">In stock</p>;
}
