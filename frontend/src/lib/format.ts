/** Money arrives as integer minor units with an ISO 4217 code; never a float. */
export function formatMoney(minor: number, currency: string | null | undefined, locale = 'en-GB'): string {
  const code = currency ?? 'GBP';
  let digits = 2;
  try {
    digits = new Intl.NumberFormat(locale, { style: 'currency', currency: code }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  } catch {
    return `${(minor / 100).toFixed(2)} ${code}`;
  }
  return new Intl.NumberFormat(locale, { style: 'currency', currency: code }).format(minor / 10 ** digits);
}

/** Digits after the decimal point in `currency`'s amounts: 2 for GBP, 0 for JPY. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * An amount typed in `currency`'s major units ("12.5") → minor units (1250),
 * without going through a float; null when it is not a plain amount.
 */
export function parseMoney(text: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const typed = text.trim().replace(',', '.');
  const pattern = digits > 0 ? new RegExp(`^\\d+(\\.\\d{0,${digits}})?$`) : /^\d+$/;
  if (!pattern.test(typed)) return null;
  const [whole = '0', fraction = ''] = typed.split('.');
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  return Number.isSafeInteger(minor) ? minor : null;
}

export function formatDate(iso: string, locale = 'en-GB'): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatUnixSeconds(seconds: number, locale = 'en-GB'): string {
  return formatDate(new Date(seconds * 1000).toISOString(), locale);
}

/** `out_of_stock` → `Out of stock`. */
export function humanise(code: string): string {
  const text = code.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A fresh key for a POST the server may see twice (`Idempotency-Key`). */
export function idempotencyKey(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
