/**
 * Card payments without Stripe.js: Stripe's test PaymentMethod ids, which the
 * cell confirms server-side (and which the local Stripe emulator knows).
 * Stripe Elements needs js.stripe.com, which a local stack cannot reach, so
 * this form only takes the documented test card numbers.
 */
const TEST_CARDS: Record<string, { paymentMethod: string; label: string }> = {
  '4242424242424242': { paymentMethod: 'pm_card_visa', label: 'Visa, succeeds' },
  '4000000000000341': { paymentMethod: 'pm_card_chargeCustomerFail', label: 'Visa, declined' },
};

export function testCards(): { number: string; label: string }[] {
  return Object.entries(TEST_CARDS).map(([number, card]) => ({ number, label: card.label }));
}

/** The PaymentMethod id of a test card number (spaces allowed), or undefined. */
export function paymentMethodFor(cardNumber: string): string | undefined {
  return TEST_CARDS[cardNumber.replace(/[\s-]/g, '')]?.paymentMethod;
}

export function formatCardNumber(number: string): string {
  return number.replace(/(\d{4})(?=\d)/g, '$1 ');
}
