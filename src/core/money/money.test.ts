import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/errors.js';
import { formatAmount, multiplyRatio, parseAmount, parseCurrency, parseMinorUnits } from './money.js';

const EUR = parseCurrency('EUR');
const JPY = parseCurrency('jpy');
const KWD = parseCurrency('KWD');

describe('money', () => {
  it('parses decimal strings and numbers into exact minor units', () => {
    expect(parseAmount('19.45', EUR)).toBe(1945n);
    expect(parseAmount(19.45, EUR)).toBe(1945n);
    expect(parseAmount(0.1, EUR)).toBe(10n);
    expect(parseAmount(9000, JPY)).toBe(9000n);
    expect(parseAmount('1.500', EUR)).toBe(150n);
    expect(parseAmount('1.234', KWD)).toBe(1234n);
    expect(parseAmount('10', EUR)).toBe(1000n);
    expect(parseAmount('99999999999.99', EUR)).toBe(9999999999999n);
  });

  it('never rounds: too many significant decimals is an error naming the field', () => {
    expect(() => parseAmount('1.005', EUR)).toThrow(/more than 2 decimal places/);
    expect(() => parseAmount('1.5', JPY)).toThrow(AppError);
    expect(() => parseAmount(1e-7, EUR)).toThrow(/decimal places/);
    try {
      parseAmount('1.001', EUR, { field: 'params.amount' });
    } catch (error) {
      expect((error as AppError).code).toBe('invalid_amount');
      expect((error as AppError).field).toBe('params.amount');
    }
  });

  it('rejects malformed, zero, negative, unsafe and huge amounts', () => {
    for (const bad of ['', 'abc', '1,50', '1.', '.5', '1e3', ' - 1', '0x10']) {
      expect(() => parseAmount(bad, EUR), bad).toThrow(AppError);
    }
    expect(() => parseAmount('0', EUR)).toThrow(/greater than zero/);
    expect(parseAmount('0', EUR, { allowZero: true })).toBe(0n);
    expect(() => parseAmount('-1', EUR)).toThrow(/negative/);
    expect(parseAmount('-1.25', EUR, { allowNegative: true })).toBe(-125n);
    expect(() => parseAmount(2 ** 60, EUR)).toThrow(/send a string/);
    expect(() => parseAmount(Number.NaN, EUR)).toThrow(AppError);
    expect(() => parseAmount('100000000000000000', EUR)).toThrow(/too large/);
    expect(() => parseAmount(null, EUR)).toThrow(AppError);
  });

  it('formats minor units with exactly the currency decimals', () => {
    expect(formatAmount(1945n, EUR)).toBe('19.45');
    expect(formatAmount(5n, EUR)).toBe('0.05');
    expect(formatAmount(0n, EUR)).toBe('0.00');
    expect(formatAmount(-150n, EUR)).toBe('-1.50');
    expect(formatAmount(9000n, JPY)).toBe('9000');
    expect(formatAmount(1234n, KWD)).toBe('1.234');
  });

  it('round-trips every amount through format and parse', () => {
    for (const minor of [1n, 9n, 10n, 99n, 100n, 101n, 123456789n]) {
      for (const currency of [EUR, JPY, KWD]) {
        expect(parseAmount(formatAmount(minor, currency), currency)).toBe(minor);
      }
    }
  });

  it('knows ISO 4217 codes only', () => {
    expect(parseCurrency('usd')).toBe('USD');
    expect(() => parseCurrency('XXX1')).toThrow(/ISO 4217/);
    expect(() => parseCurrency('ABC')).toThrow(AppError);
    expect(() => parseCurrency(12)).toThrow(AppError);
  });

  it('parses integer minor units', () => {
    expect(parseMinorUnits(150)).toBe(150n);
    expect(parseMinorUnits('150')).toBe(150n);
    expect(() => parseMinorUnits(1.5)).toThrow(AppError);
    expect(() => parseMinorUnits('1.5')).toThrow(AppError);
  });

  it('applies ratios with an explicit rounding rule', () => {
    expect(multiplyRatio(1001n, 1n, 2n, 'down')).toBe(500n);
    expect(multiplyRatio(1001n, 1n, 2n, 'half_up')).toBe(501n);
    expect(multiplyRatio(1001n, 1n, 2n, 'half_even')).toBe(500n);
    expect(multiplyRatio(1003n, 1n, 2n, 'half_even')).toBe(502n);
    expect(multiplyRatio(-1001n, 1n, 2n, 'half_up')).toBe(-501n);
    expect(multiplyRatio(1000n, 3n, 100n, 'half_even')).toBe(30n);
  });
});
