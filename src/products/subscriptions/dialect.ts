import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { AppError, isAppError } from '../../core/errors/errors.js';
import {
  currencyExponent,
  formatAmount,
  parseAmount,
  parseCurrency,
  type Currency,
} from '../../core/money/money.js';

/**
 * The SmartPay Subscription Module's wire conventions (README.md "Dialect"): vendor ids
 * (`SubscriptionPlan-<uuid>`…), timestamps `yyyy-MM-dd'T'HH:mm:ss.SS'Z'`, dates `yyyy-MM-dd`, decimal
 * amounts, the zero-based page envelope and the one error body every status uses.
 */

export const idPrefixes = {
  plan: 'SubscriptionPlan',
  subscription: 'Subscription',
  billingCycle: 'BillingCycle',
  billingAgreement: 'BillingAgreement',
  paymentSeries: 'PaymentSeries',
  transaction: 'transaction',
  retry: 'retry',
  event: 'event',
  transactionLog: 'TransactionLog',
  verification: 'Verification',
} as const;
export type SpIdKind = keyof typeof idPrefixes;

export function newSpId(kind: SpIdKind): string {
  return `${idPrefixes[kind]}-${randomUUID()}`;
}

const uuidPattern = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** An id from a path: accepted in either prefix case (the vendor's samples differ), stored form returned. */
export function parseSpId(kind: SpIdKind, raw: string): string | undefined {
  const match = new RegExp(`^${idPrefixes[kind]}-(${uuidPattern})$`, 'i').exec(raw);
  return match?.[1] ? `${idPrefixes[kind]}-${match[1].toLowerCase()}` : undefined;
}

/** `yyyy-MM-dd'T'HH:mm:ss.SS'Z'` (hundredths, UTC), as the vendor documents. */
export function timestamp(date: Date | null | undefined): string | null {
  if (!date) return null;
  return `${date.toISOString().slice(0, 22)}Z`;
}

export function isoDate(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.slice(0, 10);
  return value.toISOString().slice(0, 10);
}

/** Amounts are JSON numbers; the largest accepted amount has 15 significant digits, so it is exact. */
export const amountMajorMax = 999_999_999_999n;

export function amountOut(minor: bigint, currency: string): number {
  return Number(formatAmount(minor, currency as Currency));
}

export interface SpErrorBody {
  timestamp: string | null;
  status: number;
  error: string;
  errorCode: string;
  message: string;
  field: string | null;
  path: string;
  requestId: string;
}

const reasonPhrases: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
};

/** The error codes of the dialect (README.md "Errors"). */
export const spErrorCodes = {
  INVALID_JSON: 400,
  MISSING_FIELD: 400,
  INVALID_FIELD: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID_STATE: 409,
  IDEMPOTENCY_CONFLICT: 409,
  INTERNAL_ERROR: 500,
} as const;
export type SpErrorCode = keyof typeof spErrorCodes;

export class SpError extends Error {
  readonly status: number;
  constructor(
    readonly code: SpErrorCode,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.status = spErrorCodes[code];
  }
}

export function invalid(field: string, message: string): SpError {
  return new SpError('INVALID_FIELD', `${field} ${message}`, field);
}

/** Any thrown value as the dialect's error (core AppErrors keep their status and field). */
export function toSpError(error: unknown): SpError {
  if (error instanceof SpError) return error;
  if (isAppError(error)) return fromAppError(error);
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
      return new SpError('INVALID_FIELD', 'Content-Type must be application/json.', 'Content-Type');
    }
    if (status === 413) return new SpError('INVALID_FIELD', 'The body is too large.', 'body');
    return new SpError('INVALID_JSON', 'The body is not valid JSON.', 'body');
  }
  return new SpError('INTERNAL_ERROR', 'An unexpected error occurred; nothing was changed.');
}

function fromAppError(error: AppError): SpError {
  const field = error.field?.replace(/^\//, '') ?? null;
  switch (error.status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return new SpError(
        error.code === 'invalid_json' ? 'INVALID_JSON' : 'INVALID_FIELD',
        error.message,
        field,
      );
    case 401:
      return new SpError('UNAUTHORIZED', error.message, field);
    case 403:
      return new SpError('FORBIDDEN', error.message, field);
    case 404:
      return new SpError('NOT_FOUND', error.message, field);
    case 409:
      return new SpError(
        error.code.startsWith('idempotency') ? 'IDEMPOTENCY_CONFLICT' : 'INVALID_STATE',
        error.message,
        field,
      );
    default:
      return new SpError('INTERNAL_ERROR', 'An unexpected error occurred; nothing was changed.');
  }
}

export function errorBody(error: SpError, path: string, requestId: string): SpErrorBody {
  return {
    timestamp: timestamp(new Date()),
    status: error.status,
    error: reasonPhrases[error.status] ?? 'Error',
    errorCode: error.code,
    message: error.message,
    field: error.field,
    path,
    requestId,
  };
}

// ---------------------------------------------------------------------------------------------------
// Field readers: each names the field it rejects.

export type Json = Record<string, unknown>;

export function objectBody(body: unknown): Json {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new SpError('INVALID_JSON', 'The body must be a JSON object.', 'body');
  }
  return body as Json;
}

export function has(body: Json, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(body, name) && body[name] !== undefined;
}

export function str(
  body: Json,
  name: string,
  options: { required?: boolean; max: number; min?: number; path?: string; pattern?: RegExp },
): string | undefined {
  const field = options.path ?? name;
  const value = body[name];
  if (value === undefined || value === null) {
    if (options.required) throw new SpError('MISSING_FIELD', `${field} is required.`, field);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(field, 'must be a string.');
  const trimmed = value.trim();
  if (trimmed.length < (options.min ?? (options.required ? 1 : 0))) {
    throw options.required
      ? new SpError('MISSING_FIELD', `${field} must not be empty.`, field)
      : invalid(field, 'is too short.');
  }
  if (value.length > options.max) throw invalid(field, `is longer than ${options.max} characters.`);
  if (options.pattern && !options.pattern.test(trimmed)) throw invalid(field, 'has an invalid format.');
  return trimmed;
}

/** A string field that may be sent as null to clear it: null → null, absent → undefined. */
export function nullableStr(body: Json, name: string, max: number): string | null | undefined {
  if (body[name] === null) return null;
  return str(body, name, { max });
}

export function int(
  body: Json,
  name: string,
  options: { required?: boolean; min: number; max: number; path?: string },
): number | undefined {
  const field = options.path ?? name;
  const value = body[name];
  if (value === undefined || value === null) {
    if (options.required) throw new SpError('MISSING_FIELD', `${field} is required.`, field);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(field, 'must be an integer.');
  if (value < options.min || value > options.max) {
    throw invalid(field, `must be between ${options.min} and ${options.max}.`);
  }
  return value;
}

export function bool(body: Json, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(name, 'must be true or false.');
  return value;
}

export function oneOf<T extends string>(
  body: Json,
  name: string,
  values: readonly T[],
  options: { required?: boolean } = {},
): T | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (options.required) throw new SpError('MISSING_FIELD', `${name} is required.`, name);
    return undefined;
  }
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value.toLowerCase())) {
    throw invalid(name, `must be one of ${values.join(', ')}.`);
  }
  return value.toLowerCase() as T;
}

export function currencyField(body: Json, name: string, required: boolean): Currency | undefined {
  const value = str(body, name, { required, max: 3, min: 3 });
  if (value === undefined) return undefined;
  try {
    return parseCurrency(value, name);
  } catch {
    throw invalid(name, 'is not an ISO 4217 currency code.');
  }
}

/** A decimal amount (number or string) in `currency`'s exponent, positive, at most 999 999 999 999.99. */
export function amountField(
  body: Json,
  name: string,
  currency: Currency,
  required: boolean,
): bigint | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new SpError('MISSING_FIELD', `${name} is required.`, name);
    return undefined;
  }
  let minor: bigint;
  try {
    minor = parseAmount(value, currency, { field: name });
  } catch (error) {
    throw invalid(
      name,
      isAppError(error) ? error.message.replace(/^amount /, '') : 'is not a decimal amount.',
    );
  }
  if (minor <= 0n) throw invalid(name, 'must be greater than zero.');
  if (minor > amountMajorMax * 10n ** BigInt(currencyExponent(currency)) + 99n) {
    throw invalid(name, 'is larger than 999999999999.99.');
  }
  return minor;
}

export function jsonObject(body: Json, name: string): Json | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(name, 'must be an object.');
  return value as Json;
}

// Addresses and consumers (vendor-apis.md §3.2 data model).

const countryPattern = /^[A-Za-z]{2,3}$/;

export function address(
  body: Json,
  name: string,
  options: { required: boolean; partial?: Json },
): Json | undefined {
  const raw = jsonObject(body, name);
  if (!raw) {
    if (options.required) throw new SpError('MISSING_FIELD', `${name} is required.`, name);
    return undefined;
  }
  const merged: Json = { ...(options.partial ?? {}), ...raw };
  const p = (field: string) => `${name}.${field}`;
  const out: Json = {
    addressLine1: str(merged, 'addressLine1', { required: true, max: 60, path: p('addressLine1') }),
    addressLine2: str(merged, 'addressLine2', { max: 60, path: p('addressLine2') }) ?? null,
    addressLine3: str(merged, 'addressLine3', { max: 60, path: p('addressLine3') }) ?? null,
    number: str(merged, 'number', { required: true, max: 10, path: p('number') }),
    city: str(merged, 'city', { required: true, max: 50, path: p('city') }),
    postCode: str(merged, 'postCode', { required: true, max: 10, path: p('postCode') }),
    countryCode: str(merged, 'countryCode', {
      required: true,
      max: 3,
      min: 2,
      path: p('countryCode'),
      pattern: countryPattern,
    })?.toUpperCase(),
    state: str(merged, 'state', { max: 3, path: p('state') }) ?? null,
  };
  if (['US', 'USA', 'CA', 'CAN'].includes(String(out.countryCode)) && out.state === null) {
    throw new SpError(
      'MISSING_FIELD',
      `${p('state')} is required for ${String(out.countryCode)}.`,
      p('state'),
    );
  }
  return out;
}

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const datePattern = /^\d{4}-\d{2}-\d{2}$/;

export function consumer(body: Json, name: string, partial?: Json): Json | undefined {
  const raw = jsonObject(body, name);
  if (!raw) return undefined;
  const merged: Json = { ...(partial ?? {}), ...raw };
  const p = (field: string) => `${name}.${field}`;
  const dateOfBirth = str(merged, 'dateOfBirth', {
    required: true,
    max: 10,
    path: p('dateOfBirth'),
    pattern: datePattern,
  });
  if (dateOfBirth && !DateTime.fromISO(dateOfBirth).isValid)
    throw invalid(p('dateOfBirth'), 'is not a date.');
  const title = oneOfPath(merged, 'title', ['Mr', 'Mrs', 'Ms'], p('title'), true);
  const gender = oneOfPath(merged, 'gender', ['M', 'F', 'D'], p('gender'), false);
  return {
    firstName: str(merged, 'firstName', { required: true, max: 60, path: p('firstName') }),
    lastName: str(merged, 'lastName', { required: true, max: 60, path: p('lastName') }),
    middleName: str(merged, 'middleName', { max: 60, path: p('middleName') }) ?? null,
    emailAddress: str(merged, 'emailAddress', {
      required: true,
      max: 255,
      path: p('emailAddress'),
      pattern: emailPattern,
    }),
    title,
    culture: str(merged, 'culture', { max: 5, path: p('culture'), pattern: /^[a-z]{2}-[a-z]{2}$/i }) ?? null,
    dateOfBirth,
    gender: gender ?? null,
    mobilePhone: str(merged, 'mobilePhone', { max: 20, path: p('mobilePhone') }) ?? null,
    homePhone: str(merged, 'homePhone', { max: 20, path: p('homePhone') }) ?? null,
    workPhone: str(merged, 'workPhone', { max: 20, path: p('workPhone') }) ?? null,
    taxId: str(merged, 'taxId', { max: 30, path: p('taxId') }) ?? null,
  };
}

function oneOfPath(
  body: Json,
  name: string,
  values: readonly string[],
  path: string,
  required: boolean,
): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new SpError('MISSING_FIELD', `${path} is required.`, path);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(path, `must be one of ${values.join(', ')}.`);
  const found = values.find((v) => v.toLowerCase() === value.toLowerCase());
  if (!found) throw invalid(path, `must be one of ${values.join(', ')}.`);
  return found;
}

export function businessConsumer(body: Json, name: string, partial?: Json): Json | undefined {
  const raw = jsonObject(body, name);
  if (!raw) return undefined;
  const merged: Json = { ...(partial ?? {}), ...raw };
  const p = (field: string) => `${name}.${field}`;
  return {
    companyName: str(merged, 'companyName', { required: true, max: 100, path: p('companyName') }),
    companyType: str(merged, 'companyType', { required: true, max: 100, path: p('companyType') }),
    emailAddress: str(merged, 'emailAddress', {
      required: true,
      max: 255,
      path: p('emailAddress'),
      pattern: emailPattern,
    }),
    taxId: str(merged, 'taxId', { max: 30, path: p('taxId') }) ?? null,
    culture: str(merged, 'culture', { max: 5, path: p('culture') }) ?? null,
    companyRegistrationNumber:
      str(merged, 'companyRegistrationNumber', { max: 50, path: p('companyRegistrationNumber') }) ?? null,
    companyRegistrationCountryCode:
      str(merged, 'companyRegistrationCountryCode', {
        max: 3,
        min: 2,
        path: p('companyRegistrationCountryCode'),
        pattern: countryPattern,
      }) ?? null,
  };
}

/** `customReferences`: `{custom1, custom2, custom3}` strings ≤ 255, or null. */
export function customReferences(body: Json, name = 'customReferences'): Json | undefined {
  const raw = jsonObject(body, name);
  if (!raw) return undefined;
  const out: Json = {};
  for (const key of Object.keys(raw)) {
    if (!['custom1', 'custom2', 'custom3'].includes(key))
      throw invalid(`${name}.${key}`, 'is not a known reference (custom1, custom2, custom3).');
  }
  for (const key of ['custom1', 'custom2', 'custom3'])
    out[key] = str(raw, key, { max: 255, path: `${name}.${key}` }) ?? null;
  return out;
}

/** `criteria`: an object of at most 20 string values ≤ 255. */
export function criteria(body: Json): Json | undefined {
  const raw = jsonObject(body, 'criteria');
  if (!raw) return undefined;
  const entries = Object.entries(raw);
  if (entries.length > 20) throw invalid('criteria', 'has more than 20 entries.');
  for (const [key, value] of entries) {
    if (key.length > 64) throw invalid(`criteria.${key.slice(0, 64)}`, 'key is longer than 64 characters.');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalid(`criteria.${key}`, 'must be a string, number or boolean.');
    }
    if (String(value).length > 255) throw invalid(`criteria.${key}`, 'is longer than 255 characters.');
  }
  return raw;
}

// Pagination and filters: zero-based pages; unknown or invalid query values are ignored.

export const pageSizeDefault = 10;
export const pageSizeMax = 100;

export interface PageQuery {
  page: number;
  pageSize: number;
}

export function pageQuery(query: Record<string, unknown>): PageQuery {
  const page = nonNegativeInt(query.page, 0, 1_000_000);
  const pageSize = nonNegativeInt(query.pageSize, pageSizeDefault, pageSizeMax);
  return { page, pageSize: pageSize === 0 ? pageSizeDefault : pageSize };
}

function nonNegativeInt(raw: unknown, fallback: number, max: number): number {
  if (typeof raw !== 'string' || !/^\d{1,7}$/.test(raw)) return fallback;
  const value = Number(raw);
  return value > max ? fallback : value;
}

export function dateFilter(raw: unknown): Date | undefined {
  if (typeof raw !== 'string' || raw.length > 40) return undefined;
  const parsed = DateTime.fromISO(raw, { zone: 'utc' });
  return parsed.isValid ? parsed.toJSDate() : undefined;
}

export function boolFilter(raw: unknown): boolean | undefined {
  if (typeof raw !== 'string') return undefined;
  if (raw.toLowerCase() === 'true') return true;
  if (raw.toLowerCase() === 'false') return false;
  return undefined;
}

export function textFilter(raw: unknown, max = 255): string | undefined {
  return typeof raw === 'string' && raw.length > 0 && raw.length <= max ? raw : undefined;
}

export function envelope<T>(page: PageQuery, count: number, data: T[]) {
  return {
    page: page.page,
    pageSize: page.pageSize,
    count,
    totalPages: Math.ceil(count / page.pageSize),
    data,
  };
}
