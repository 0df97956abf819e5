import { AppError } from '../errors/errors.js';
import { currencyExponents } from './currencies.js';

/**
 * Money is integer minor units plus an ISO 4217 code (STYLE.md §1). Nothing else in Payloom does
 * arithmetic on amounts or knows a currency's exponent; dialects convert at their edge with
 * `parseAmount` / `formatAmount`.
 */
declare const currencyBrand: unique symbol;
export type Currency = string & { readonly [currencyBrand]: true };

export interface Money {
  readonly amountMinor: bigint;
  readonly currency: Currency;
}

/** Upper bound on any single amount: 10^15 minor units (a quadrillion cents), far above any payment. */
export const amountMinorMax = 1_000_000_000_000_000n;

export function parseCurrency(code: unknown, field = 'currency'): Currency {
  if (typeof code !== 'string' || !currencyExponents.has(code.toUpperCase())) {
    throw new AppError('invalid_currency', `${String(code)} is not a known ISO 4217 currency code.`, {
      field,
    });
  }
  return code.toUpperCase() as Currency;
}

export function currencyExponent(currency: Currency): number {
  const exponent = currencyExponents.get(currency);
  if (exponent === undefined) throw new Error(`invariant violated: unknown currency ${currency}`);
  return exponent;
}

const decimalPattern = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Parses a major-unit decimal (`"19.45"`, `19.45`, `9000`) into minor units without ever going through
 * floating point arithmetic. A JSON number is read through its shortest round-trip text (what the client
 * sent). Extra decimals are accepted only when they are zeros (`"1.50"` in JPY is rejected, `"1.500"` in
 * EUR is 150); anything that would need rounding is an error, never silently rounded.
 */
export function parseAmount(
  input: unknown,
  currency: Currency,
  options: { field?: string; allowZero?: boolean; allowNegative?: boolean } = {},
): bigint {
  const field = options.field ?? 'amount';
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw invalid(field, 'must be a finite number');
    if (Math.abs(input) > Number.MAX_SAFE_INTEGER)
      throw invalid(field, 'is too large to be exact as a number; send a string');
    text = numberToPlainText(input);
  } else if (typeof input === 'string') {
    text = input.trim();
  } else {
    throw invalid(field, 'must be a decimal number or string');
  }
  const match = decimalPattern.exec(text);
  if (!match) throw invalid(field, `"${text}" is not a decimal amount`);
  const [, sign = '', whole = '0', fraction = ''] = match;
  const exponent = currencyExponent(currency);
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw invalid(field, `has more than ${exponent} decimal places for ${currency}`);
  }
  const minor = BigInt(whole + significant.padEnd(exponent, '0')) * (sign === '-' ? -1n : 1n);
  return checkRange(minor, field, options);
}

/** Validates an amount already in minor units (integer number, bigint or digit string). */
export function parseMinorUnits(
  input: unknown,
  options: { field?: string; allowZero?: boolean; allowNegative?: boolean } = {},
): bigint {
  const field = options.field ?? 'amount';
  let minor: bigint;
  if (typeof input === 'bigint') minor = input;
  else if (typeof input === 'number' && Number.isSafeInteger(input)) minor = BigInt(input);
  else if (typeof input === 'string' && /^-?\d+$/.test(input)) minor = BigInt(input);
  else throw invalid(field, 'must be an integer number of minor units');
  return checkRange(minor, field, options);
}

/** Formats minor units as a major-unit decimal string with exactly the currency's decimals: `"19.45"`. */
export function formatAmount(amountMinor: bigint, currency: Currency): string {
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

export type Rounding = 'half_even' | 'half_up' | 'down';

/** amountMinor × numerator / denominator with an explicit rounding rule (fees, pro-rating). */
export function multiplyRatio(
  amountMinor: bigint,
  numerator: bigint,
  denominator: bigint,
  rounding: Rounding,
): bigint {
  if (denominator <= 0n) throw new Error('invariant violated: denominator must be positive');
  const product = amountMinor * numerator;
  const negative = product < 0n;
  const absolute = negative ? -product : product;
  let quotient = absolute / denominator;
  const remainder = absolute % denominator;
  if (rounding !== 'down' && remainder !== 0n) {
    const twice = remainder * 2n;
    if (twice > denominator || (twice === denominator && (rounding === 'half_up' || quotient % 2n === 1n))) {
      quotient += 1n;
    }
  }
  return negative ? -quotient : quotient;
}

export function money(amountMinor: bigint, currency: Currency): Money {
  return { amountMinor, currency };
}

function checkRange(
  minor: bigint,
  field: string,
  options: { allowZero?: boolean; allowNegative?: boolean },
): bigint {
  if (minor < 0n && !options.allowNegative) throw invalid(field, 'must not be negative');
  if (minor === 0n && !options.allowZero) throw invalid(field, 'must be greater than zero');
  if (minor > amountMinorMax || minor < -amountMinorMax) throw invalid(field, 'is too large');
  return minor;
}

function numberToPlainText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // Tiny magnitudes print in exponent form (1e-7); they always have too many decimals for any currency.
  if (Math.abs(value) < 1) return value.toFixed(20);
  return BigInt(value).toString();
}

function invalid(field: string, message: string): AppError {
  return new AppError('invalid_amount', `${field} ${message}.`, { field });
}
