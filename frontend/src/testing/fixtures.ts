import type { AuditEntry } from '@/api/wire/AuditEntry';
import type { AuditPage } from '@/api/wire/AuditPage';
import type { CartLine } from '@/api/wire/CartLine';
import type { CartView } from '@/api/wire/CartView';
import type { CellList } from '@/api/wire/CellList';
import type { CellView } from '@/api/wire/CellView';
import type { CheckoutView } from '@/api/wire/CheckoutView';
import type { DrainView } from '@/api/wire/DrainView';
import type { EmailChangePending } from '@/api/wire/EmailChangePending';
import type { Facets } from '@/api/wire/Facets';
import type { OrderDetail } from '@/api/wire/OrderDetail';
import type { PaymentView } from '@/api/wire/PaymentView';
import type { ProductDetail } from '@/api/wire/ProductDetail';
import type { ProductSnapshot } from '@/api/wire/ProductSnapshot';
import type { ProductSummary } from '@/api/wire/ProductSummary';
import type { SearchResults } from '@/api/wire/SearchResults';
import type { TokenResponse } from '@/api/wire/TokenResponse';
import type { UserResponse } from '@/api/wire/UserResponse';

// Builders of API bodies for tests, typed by the generated wire types so a
// change on the Rust side breaks the tests that rely on the old shape.

export function aUser(overrides: Partial<UserResponse> = {}): UserResponse {
  return { id: 'u-1', email: 'ada@example.com', name: 'Ada Lovelace', roles: ['user'], shopper_key: 'sk-ada', ...overrides };
}

export function aToken(token = 'token-1', user: UserResponse = aUser()): TokenResponse {
  return { access_token: token, token_type: 'Bearer', expires_in: 900, user };
}

/** A change of e-mail address waiting for its link (the answer to `POST /api/me/email`). */
export function anEmailChangePending(overrides: Partial<EmailChangePending> = {}): EmailChangePending {
  return { email: 'ada.king@example.com', expires_at: '2025-11-27T10:30:00Z', ...overrides };
}

export function aProductSummary(overrides: Partial<ProductSummary> = {}): ProductSummary {
  return {
    id: 1,
    slug: 'oxford-shirt-white',
    title: 'Oxford shirt',
    brand: { slug: 'harbour-and-finch', name: 'Harbour & Finch' },
    category: { slug: 'shirts', name: 'Shirts' },
    price_minor: 4500,
    currency: 'GBP',
    compare_at_minor: null,
    image: { url: '/media/placeholders/shirts.svg', alt: 'A white oxford shirt' },
    rating: { average: 4.5, count: 12 },
    colours: ['white'],
    sizes: ['M', 'L'],
    in_stock: true,
    ...overrides,
  };
}

export function aProductDetail(overrides: Partial<ProductDetail> = {}): ProductDetail {
  const availability = { status: 'in_stock', quantity: 10, global_hint: 50 };
  return {
    id: 1,
    version: 3,
    slug: 'oxford-shirt-white',
    title: 'Oxford shirt',
    description: 'A crisp cotton oxford.',
    brand: { slug: 'harbour-and-finch', name: 'Harbour & Finch' },
    categories: [{ slug: 'shirts', name: 'Shirts' }],
    tags: [],
    images: [{ url: '/media/placeholders/shirts.svg', alt: 'A white oxford shirt' }],
    attributes: { material: 'cotton' },
    rating: { average: 4.5, count: 12 },
    variants: [
      { sku: 'OXF-WHT-M', size: 'M', colour: 'white', price_minor: 4500, currency: 'GBP', compare_at_minor: null, availability },
      { sku: 'OXF-WHT-L', size: 'L', colour: 'white', price_minor: 4500, currency: 'GBP', compare_at_minor: null, availability: { ...availability, status: 'out_of_stock', quantity: 0 } },
      { sku: 'OXF-BLU-M', size: 'M', colour: 'blue', price_minor: 4700, currency: 'GBP', compare_at_minor: null, availability: { ...availability, status: 'low_stock', quantity: 2 } },
    ],
    ...overrides,
  };
}

export function aCartLine(overrides: Partial<CartLine> = {}): CartLine {
  return {
    sku: 'OXF-WHT-M',
    product_slug: 'oxford-shirt-white',
    title: 'Oxford shirt',
    size: 'M',
    colour: 'white',
    image: '/media/placeholders/shirts.svg',
    quantity: 1,
    unit_price_minor: 4500,
    line_total_minor: 4500,
    currency: 'GBP',
    availability: { status: 'in_stock', quantity: 10, global_hint: 50 },
    previous_price_minor: null,
    problems: [],
    ...overrides,
  };
}

/** A cart priced from its lines. */
export function aCart(items: CartLine[] = [], overrides: Partial<CartView> = {}): CartView {
  const subtotal = items.reduce((sum, line) => sum + line.line_total_minor, 0);
  return {
    items,
    item_count: items.reduce((sum, line) => sum + line.quantity, 0),
    currency: items[0]?.currency ?? null,
    subtotal_minor: subtotal,
    coupon: null,
    discount: null,
    coupon_problem: null,
    total_minor: subtotal,
    ready_for_checkout: items.length > 0 && items.every((line) => line.problems.every((p) => p === 'price_changed')),
    ...overrides,
  };
}

export function emptyFacets(overrides: Partial<Facets> = {}): Facets {
  return { brand: [], category: [], size: [], colour: [], rating: [], price: [], in_stock: 0, ...overrides };
}

export function someSearchResults(overrides: Partial<SearchResults> = {}): SearchResults {
  const items = [aProductSummary()];
  return {
    query: '',
    mode: 'text',
    total: items.length,
    page: 1,
    limit: 24,
    items: items.map((product) => ({ product, score: 1, highlights: { title: null, description: null } })),
    facets: emptyFacets(),
    relaxed: false,
    ...overrides,
  };
}

export function aCheckout(overrides: Partial<CheckoutView> = {}): CheckoutView {
  const cart = aCart([aCartLine()]);
  return {
    id: 'co-1',
    step: 'address',
    cart,
    address: null,
    shipping_options: [],
    shipping: null,
    subtotal_minor: cart.subtotal_minor,
    discount_minor: 0,
    shipping_minor: 0,
    total_minor: cart.total_minor,
    currency: 'GBP',
    order: null,
    payment: null,
    ...overrides,
  };
}

/** A checkout's PaymentIntent as the cell shows it: just made, for the emulator (test cards). */
export function aPayment(overrides: Partial<PaymentView> = {}): PaymentView {
  return {
    provider: 'stripe',
    intent: 'pi_1',
    client_secret: 'pi_1_secret_abc',
    publishable_key: 'pk_test_cellwear',
    stripe_js: false,
    status: 'requires_payment_method',
    error: null,
    ...overrides,
  };
}

export function anOrder(overrides: Partial<OrderDetail> = {}): OrderDetail {
  return {
    id: 'ord-1',
    status: 'confirmed',
    created_at: '2026-11-26T10:00:00Z',
    lines: [{ sku: 'OXF-WHT-M', title: 'Oxford shirt', size: 'M', colour: 'white', unit_price_minor: 4500, quantity: 1, line_total_minor: 4500 }],
    currency: 'GBP',
    subtotal_minor: 4500,
    discount_minor: 0,
    coupon: null,
    shipping_minor: 395,
    total_minor: 4895,
    address: { full_name: 'Ada Lovelace', line1: '1 High St', line2: null, city: 'London', region: null, postcode: 'SW1A 1AA', country: 'GB', phone: null },
    shipping_method: 'standard',
    payment_status: 'succeeded',
    refunded: false,
    cancel_reason: null,
    tracking: null,
    invoice_number: 'CW-CELL-1-00000001',
    refunded_minor: 0,
    refunds: [],
    tracking_events: [],
    timeline: [
      { from: null, to: 'pending', at: '2026-11-26T10:00:00Z', actor: 'checkout', reason: 'order placed' },
      { from: 'pending', to: 'confirmed', at: '2026-11-26T10:00:05Z', actor: 'system', reason: 'payment succeeded' },
    ],
    ...overrides,
  };
}

export function aCell(overrides: Partial<CellView> = {}): CellView {
  return { id: 'cell-1', http_address: '127.0.0.1:9101', weight: 100, state: 'active', pinned_shoppers: 0, shoppers: { accounts: 12, guests: 3 }, health: 'ready', ...overrides };
}

export function someCells(cells: CellView[] = [aCell(), aCell({ id: 'cell-2', http_address: '127.0.0.1:9102' })], routing_version = 7): CellList {
  return { routing_version, cells };
}

export function aDrain(overrides: Partial<DrainView> = {}): DrainView {
  return {
    cell: 'cell-1',
    state: 'moving',
    passes: 1,
    shoppers_moved: 3,
    shoppers_in_progress: 2,
    shoppers_in_conflict: 0,
    last_error: null,
    started_at: '2026-11-26T10:00:00Z',
    finished_at: null,
    ...overrides,
  };
}

export function aProductSnapshot(overrides: Partial<ProductSnapshot> = {}): ProductSnapshot {
  return {
    id: 1,
    version: 3,
    slug: 'oxford-shirt-white',
    title: 'Oxford shirt',
    description: 'A crisp cotton oxford.',
    brand: { slug: 'harbour-and-finch', name: 'Harbour & Finch' },
    categories: [{ slug: 'shirts', name: 'Shirts' }],
    tags: ['cotton'],
    images: [{ url: '/media/placeholders/shirts.svg', alt: 'A white oxford shirt' }],
    attributes: {},
    published: true,
    rating: { average: 0, count: 0 },
    variants: [{ sku: 'OXF-WHT-M', size: 'M', colour: 'white', price_minor: 4500, currency: 'GBP', compare_at_minor: null }],
    updated_at: '2026-11-26T10:00:00Z',
    ...overrides,
  };
}

export function anAuditEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: 42,
    at: '2026-11-26T10:00:00Z',
    actor: 'user:u-7',
    action: 'cell.drain',
    subject: 'cell-1',
    detail: { reason: 'hardware retirement' },
    request_id: 'req-drain-1',
    ...overrides,
  };
}

export function anAuditPage(items: AuditEntry[] = [anAuditEntry()], next_cursor: string | null = null): AuditPage {
  return { items, next_cursor };
}
