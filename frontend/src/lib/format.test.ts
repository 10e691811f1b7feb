import { describe, expect, it } from 'vitest';

import { currencyDigits, parseMoney } from './format';

describe('parseMoney', () => {
  it('reads major units into minor units without float errors', () => {
    expect(parseMoney('12.5', 'GBP')).toBe(1250);
    expect(parseMoney(' 0.29 ', 'GBP')).toBe(29);
    expect(parseMoney('48,95', 'EUR')).toBe(4895);
    expect(parseMoney('7', 'GBP')).toBe(700);
    expect(parseMoney('1200', 'JPY')).toBe(1200);
  });

  it('refuses what is not a plain amount in the currency', () => {
    expect(parseMoney('', 'GBP')).toBeNull();
    expect(parseMoney('1.234', 'GBP')).toBeNull();
    expect(parseMoney('-5', 'GBP')).toBeNull();
    expect(parseMoney('£5', 'GBP')).toBeNull();
    expect(parseMoney('1.5', 'JPY')).toBeNull();
  });

  it('knows each currency’s digits', () => {
    expect(currencyDigits('GBP')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('not a currency')).toBe(2);
  });
});
