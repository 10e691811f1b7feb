/**
 * Query keys that more than one feature reads or invalidates (features do not
 * import each other, so the keys they share live here).
 */
export const sharedKeys = {
  me: ['me'] as const,
  cart: ['cart'] as const,
  addresses: ['me', 'addresses'] as const,
  orders: ['orders'] as const,
};
