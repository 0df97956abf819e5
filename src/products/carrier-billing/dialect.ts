import { AppError } from '../../core/errors/errors.js';

/**
 * The Infomedia request envelope, read the way real clients send it (vendor-apis.md §1.3, §1.3a):
 * `{mx, mcc, mnc, productId, u, p, pt, pinId, params: [{key, value}]}`, and also
 * - PascalCase keys of the ASMX binding (`MX`, `ProductID`, `U`, `P`, `Params: [{Key, Value}]`);
 * - the flat SendBillWithPin body of a public .NET client (`bpid`, `amount` as a number,
 *   `itemDescription`, `pin` at the top level);
 * - numbers where strings are documented (`mcc: 234`, `productId: 8000000`).
 * Every value becomes a string; lookups ignore case. Limits are named below.
 */
export const fieldLengthMax = 255;
export const paramsMax = 32;
export const paramValueLengthMax = 500;
export const methodNameLengthMax = 64;

export interface DcbEnvelope {
  readonly fields: ReadonlyMap<string, string>;
  readonly params: ReadonlyMap<string, string>;
}

/** Top-level aliases (lower-cased) → the documented field name. */
const fieldAliases: Readonly<Record<string, string>> = {
  mx: 'mx',
  msisdn: 'mx',
  mcc: 'mcc',
  mnc: 'mnc',
  productid: 'productid',
  bpid: 'productid',
  pid: 'productid',
  u: 'u',
  p: 'p',
  pt: 'pt',
  pinid: 'pinid',
  txid: 'txid',
};

/** Flat-body fields that belong in `params`. */
const paramAliases: Readonly<Record<string, string>> = {
  amount: 'amount',
  currency: 'currency',
  description: 'description',
  itemdescription: 'description',
  language: 'language',
  pin: 'pin',
  text: 'text',
};

export function parseEnvelope(body: unknown): DcbEnvelope {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('validation_failed', 'The body must be a JSON object.', { field: 'body' });
  }
  const fields = new Map<string, string>();
  const params = new Map<string, string>();
  for (const [rawKey, rawValue] of Object.entries(body as Record<string, unknown>)) {
    const key = rawKey.toLowerCase();
    if (key === 'params') {
      readParams(rawValue, params);
      continue;
    }
    const field = fieldAliases[key];
    const param = paramAliases[key];
    if (!field && !param) continue; // Unknown top-level fields are ignored, as the vendor does.
    const value = scalar(rawValue, rawKey, field ? fieldLengthMax : paramValueLengthMax);
    if (value === undefined) continue;
    if (field) fields.set(field, value);
    else if (param && !params.has(param)) params.set(param, value);
  }
  return { fields, params };
}

function readParams(raw: unknown, into: Map<string, string>): void {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw))
    throw new AppError('validation_failed', 'params must be an array of {key, value}.', { field: 'params' });
  if (raw.length > paramsMax)
    throw new AppError('validation_failed', `params has more than ${paramsMax} entries.`, {
      field: 'params',
    });
  for (const entry of raw) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new AppError('validation_failed', 'Each param must be an object {key, value}.', {
        field: 'params',
      });
    }
    const lower = new Map(
      Object.entries(entry as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const key = lower.get('key');
    if (typeof key !== 'string' || key.length === 0 || key.length > 50) {
      throw new AppError('validation_failed', 'Each param needs a key of 1-50 characters.', {
        field: 'params.key',
      });
    }
    const value = scalar(lower.get('value'), `params.${key}`, paramValueLengthMax);
    const name = paramAliases[key.toLowerCase()] ?? key.toLowerCase();
    if (value !== undefined) into.set(name, value);
  }
}

function scalar(value: unknown, field: string, lengthMax: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new AppError('validation_failed', `${field} must be a finite number.`, { field });
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'string')
    throw new AppError('validation_failed', `${field} must be a string.`, { field });
  if (value.length > lengthMax)
    throw new AppError('validation_failed', `${field} is longer than ${lengthMax} characters.`, { field });
  return value;
}

export function required(envelope: DcbEnvelope, name: string): string {
  const value = envelope.fields.get(name) ?? envelope.params.get(name);
  if (value === undefined || value.trim() === '') {
    throw new AppError('validation_failed', `${name} is required.`, { field: name });
  }
  return value.trim();
}

export function optional(envelope: DcbEnvelope, name: string): string | undefined {
  const value = envelope.fields.get(name) ?? envelope.params.get(name);
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Method names are matched case-insensitively (`PINGenerateWithParams` = `PinGenerateWithParams`). */
export const dcbMethods = [
  'pingeneratewithparams',
  'sendbillwithpin',
  'pinvalidatewithparams',
  'pinvalidate',
  'sendbill',
  'refund',
  'gettransaction',
  'decryptmx',
  'sendmessagewithcampaign',
] as const;
export type DcbMethod = (typeof dcbMethods)[number];

export function parseMethod(raw: string): DcbMethod | undefined {
  const lower = raw.toLowerCase();
  return (dcbMethods as readonly string[]).includes(lower) ? (lower as DcbMethod) : undefined;
}
