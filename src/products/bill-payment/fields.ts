/**
 * Field rules of the Payd requests, checked in the vendor's words: a violation is `4000` with the
 * message `<field> :<violation>` (Spring bean-validation style, as the vendor answers), e.g.
 * `sourceIdentifier :must be an alphanumeric`. Parsing never coerces silently: an integer field takes a
 * JSON integer or a string of digits; anything else names the field.
 */
export class PaydFieldError extends Error {
  constructor(
    readonly field: string,
    readonly violation: string,
    /** A whole message instead of `<field> :<violation>` (the vendor's fixed texts). */
    readonly whole?: string,
  ) {
    super(whole ?? `${field} :${violation}`);
  }
}

export type Body = Readonly<Record<string, unknown>>;

export const amountMax = 999_999_999_999n;
export const identifierPattern = /^[a-zA-Z0-9]+$/;
/** ISO 8601 date-time with a time zone (`Z` or an offset), as the vendor's examples send it. */
const timestampPattern =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;

export function asObject(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PaydFieldError('body', 'must be a JSON object', 'Transaction request not valid');
  }
  return body as Body;
}

function present(body: Body, field: string): unknown {
  const value = body[field];
  if (value === undefined || value === null) throw new PaydFieldError(field, 'may not be null');
  return value;
}

/** An integer in `min..max`; JSON integers or digit strings. */
export function integer(body: Body, field: string, min: bigint, max: bigint): bigint {
  return integerValue(present(body, field), field, min, max);
}

export function optionalInteger(body: Body, field: string, min: bigint, max: bigint): bigint | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  return integerValue(value, field, min, max);
}

export function integerValue(value: unknown, field: string, min: bigint, max: bigint): bigint {
  let parsed: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new PaydFieldError(field, 'must be an integer');
    if (!Number.isSafeInteger(value)) throw new PaydFieldError(field, `must be less than or equal to ${max}`);
    parsed = BigInt(value);
  } else if (typeof value === 'string' && /^-?\d{1,30}$/.test(value.trim())) {
    parsed = BigInt(value.trim());
  } else {
    throw new PaydFieldError(field, 'must be an integer');
  }
  if (parsed < min) throw new PaydFieldError(field, `must be greater than or equal to ${min}`);
  if (parsed > max) throw new PaydFieldError(field, `must be less than or equal to ${max}`);
  return parsed;
}

export function text(body: Body, field: string, lengthMax: number, options: { alphanumeric?: boolean } = {}) {
  return textValue(present(body, field), field, lengthMax, options);
}

export function optionalText(
  body: Body,
  field: string,
  lengthMax: number,
  options: { alphanumeric?: boolean } = {},
): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  return textValue(value, field, lengthMax, options);
}

export function textValue(
  value: unknown,
  field: string,
  lengthMax: number,
  options: { alphanumeric?: boolean; pattern?: RegExp } = {},
): string {
  if (typeof value !== 'string') throw new PaydFieldError(field, 'must be a string');
  if (value.length < 1 || value.length > lengthMax) {
    throw new PaydFieldError(field, `size must be between 1 and ${lengthMax}`);
  }
  if (options.alphanumeric && !identifierPattern.test(value)) {
    throw new PaydFieldError(field, 'must be an alphanumeric');
  }
  return value;
}

/** `sourceIdentifier` / `targetIdentifier`: 1..32, `^[a-zA-Z0-9]+$`. */
export function identifier(body: Body, field: string): string {
  return text(body, field, 32, { alphanumeric: true });
}

/** ISO 8601 date-time, at most 32 characters. */
export function timestamp(body: Body, field = 'timestamp'): string {
  const value = text(body, field, 32);
  if (!timestampPattern.test(value) || Number.isNaN(Date.parse(value))) {
    throw new PaydFieldError(field, 'must be an ISO 8601 date-time, e.g. 2016-06-29T16:39:42.735Z');
  }
  return value;
}

/** Purchase and fee amounts: minor units, 12 digits at most. */
export function amount(body: Body, field: string, min = 1n): bigint {
  return integer(body, field, min, amountMax);
}

/** Query strings: every value is a string; a repeated parameter is a violation. */
export function queryValue(query: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = query[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new PaydFieldError(field, 'must be given once');
  return value;
}
