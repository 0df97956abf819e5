import { AppError, isAppError } from '../../core/errors/errors.js';
import { parseAmount, type Currency } from '../../core/money/money.js';
import type { Environment } from '../../core/db/schema.js';
import { invalid, MpError } from './errors.js';
import type { Link } from './schema.js';

/** Field rules of the dialect (vendor-apis.md §4.3-4.4, the vendor OpenAPI). */
export const limits = {
  planMax: 30,
  descriptionMax: 60,
  externalIdMax: 64,
  expirationMinutesMin: 1,
  expirationMinutesMax: 181_440,
  oneOffExpirationDefault: 1440,
  retentionHoursMax: 24,
  frequencies: [0, 1, 2, 4, 12, 26, 52, 365] as readonly number[],
  amountMajorMax: 2_147_483_647n,
  paymentRequestsPerBatchMax: 2000,
  dueDateDaysMin: 1,
  dueDateDaysMax: 126,
  graceDaysMin: 1,
  graceDaysMax: 3,
  pageSizeMax: 2000,
  refundDays: 90,
  /** Largest subscription payment (DK 300 000 since 2023-10-02, FI 2 000), in major units. */
  paymentMaxMajor: { DKK: 300_000n, EUR: 2_000n } as Readonly<Record<string, bigint>>,
  attachmentTitleMax: 60,
  paymentReferenceMax: 60,
} as const;

export const currencyOfCountry: Readonly<Record<string, string>> = { DK: 'DKK', FI: 'EUR' };

export type Body = Record<string, unknown>;

export function objectBody(body: unknown, field = 'body'): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(field, 'must be a JSON object');
  }
  return body as Body;
}

export function onlyFields(body: Body, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalid(`${prefix}${key}`, 'is not a known field');
  }
}

export function requiredString(body: Body, field: string, max: number, prefix = ''): string {
  const value = body[field];
  if (value === undefined || value === null) throw invalid(`${prefix}${field}`, 'is required');
  return stringValue(value, `${prefix}${field}`, max);
}

export function optionalString(body: Body, field: string, max: number, prefix = ''): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  return stringValue(value, `${prefix}${field}`, max);
}

function stringValue(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  return value;
}

export function optionalInt(body: Body, field: string, min: number, max: number, prefix = ''): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw invalid(`${prefix}${field}`, 'must be an integer');
  if (value < min || value > max) throw invalid(`${prefix}${field}`, `must be between ${min} and ${max}`);
  return value;
}

export function requiredInt(body: Body, field: string, min: number, max: number, prefix = ''): number {
  const value = optionalInt(body, field, min, max, prefix);
  if (value === null) throw invalid(`${prefix}${field}`, 'is required');
  return value;
}

export function optionalBool(body: Body, field: string, prefix = ''): boolean | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw invalid(`${prefix}${field}`, 'must be true or false');
  return value;
}

/**
 * An amount as the dialect sends it: a JSON number (`10`, `10.5`) or a string (`"10.99"`), at most
 * two decimals, parsed exactly into minor units.
 */
export function amountOf(
  value: unknown,
  currency: Currency,
  field: string,
  options: { allowZero?: boolean } = {},
): bigint {
  if (value === undefined || value === null) throw invalid(field, 'is required');
  let minor: bigint;
  try {
    minor = parseAmount(value, currency, { field, allowZero: options.allowZero ?? false });
  } catch (error) {
    if (isAppError(error)) throw invalid(field, minAmountMessage(error, options.allowZero ?? false));
    throw error;
  }
  if (minor > limits.amountMajorMax * 100n) throw invalid(field, `must be at most ${limits.amountMajorMax}`);
  return minor;
}

function minAmountMessage(error: AppError, allowZero: boolean): string {
  const detail = error.message.replace(/^[^:]*: ?/, '');
  return /zero|negative|positive|greater/i.test(detail)
    ? allowZero
      ? 'must be 0.00 or more'
      : 'must be greater than 0.00'
    : detail || 'is not a valid amount with at most two decimals';
}

export function parseLinks(
  value: unknown,
  required: readonly string[],
  allowed: readonly string[],
  environment: Environment,
  field = 'links',
): Link[] {
  if (value === undefined || value === null) throw invalid(field, 'is required');
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of {rel, href}');
  if (value.length > 10) throw invalid(field, 'has too many links');
  const links: Link[] = [];
  for (const [index, raw] of value.entries()) {
    const entry = objectBody(raw, `${field}[${index}]`);
    onlyFields(entry, ['rel', 'href'], `${field}[${index}].`);
    const rel = requiredString(entry, 'rel', 40, `${field}[${index}].`);
    const href = requiredString(entry, 'href', 2000, `${field}[${index}].`);
    if (!allowed.includes(rel))
      throw invalid(`${field}[${index}].rel`, `must be one of ${allowed.join(', ')}`);
    if (links.some((l) => l.rel === rel)) throw invalid(`${field}[${index}].rel`, `${rel} is given twice`);
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      throw invalid(`${field}[${index}].href`, 'must be an absolute URL');
    }
    if (url.protocol !== 'https:' && (environment === 'production' || url.protocol !== 'http:')) {
      throw invalid(
        `${field}[${index}].href`,
        'The hyperlink reference must use https scheme',
        'InvalidScheme',
      );
    }
    links.push({ rel, href });
  }
  for (const rel of required) {
    if (!links.some((l) => l.rel === rel)) throw invalid(field, `must contain a link with rel ${rel}`);
  }
  return links;
}

export function httpsUrl(value: unknown, field: string, environment: Environment): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'is required');
  if (value.length > 2000) throw invalid(field, 'is too long');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && (environment === 'production' || url.protocol !== 'http:')) {
    throw invalid(field, 'The hyperlink reference must use https scheme', 'InvalidScheme');
  }
  return value;
}

const datePattern = /^(\d{4})-(\d{2})-(\d{2})(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** A date `YYYY-MM-DD` (a date-time is accepted and its date part kept). */
export function dateOf(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a date YYYY-MM-DD');
  const match = datePattern.exec(value);
  if (!match) throw invalid(field, 'must be a date YYYY-MM-DD');
  const date = `${match[1]}-${match[2]}-${match[3]}`;
  const parsed = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) {
    throw invalid(field, 'is not a calendar date');
  }
  return date;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

/** JSON Patch (RFC 6902) operations: only `replace` with a path and a value. */
export interface PatchOp {
  path: string;
  value: unknown;
}

export function parsePatch(body: unknown, allowedPaths: readonly string[]): PatchOp[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw invalid('body', 'must be a JSON Patch array of operations');
  }
  const ops: PatchOp[] = [];
  for (const [index, raw] of body.entries()) {
    const op = objectBody(raw, `[${index}]`);
    onlyFields(op, ['op', 'path', 'value', 'from'], `[${index}].`);
    if (op.op !== 'replace') {
      throw new MpError(
        'method',
        'OperationNotAllowed',
        `[${index}].op: only "replace" is supported`,
        `[${index}].op`,
      );
    }
    const path = typeof op.path === 'string' ? op.path : '';
    if (!allowedPaths.includes(path)) {
      throw new MpError(
        'method',
        'PathNotAllowed',
        `[${index}].path: ${path || '(none)'} cannot be replaced`,
        `[${index}].path`,
      );
    }
    if (!('value' in op)) throw invalid(`[${index}].value`, 'is required');
    ops.push({ path, value: op.value });
  }
  return ops;
}

/** Formats minor units as the dialect's two-decimal amount (a number in responses, a string in callbacks). */
export function major(amountMinor: bigint): string {
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

export function majorNumber(amountMinor: bigint): number {
  return Number(major(amountMinor));
}

export function unwrapAppError(error: unknown): never {
  if (isAppError(error)) throw invalid(error.field ?? 'body', error.message);
  throw error;
}
