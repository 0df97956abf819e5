import {
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type NumberType,
} from 'libphonenumber-js/max';
import { AppError } from '../../core/errors/errors.js';

/**
 * MSISDNs: a subscriber's mobile number in international digit form (E.164 without the `+`), the key
 * carrier billing bills, limits and ports by. Parsed once at the boundary into the branded `Msisdn`
 * (STYLE.md §9); validity and the number's type come from libphonenumber-js with its full ("max")
 * metadata, which tells mobile ranges from fixed-line ones.
 */
declare const msisdnBrand: unique symbol;
export type Msisdn = string & { readonly [msisdnBrand]: true };

export interface ParsedMsisdn {
  /** International digits, no `+`: `447700900123`. */
  readonly msisdn: Msisdn;
  /** ISO 3166-1 alpha-2 of the numbering region, e.g. `GB`, `GG`, `AE`. */
  readonly country: string;
}

/** E.164: at most 15 digits with the country code; the shortest mobile numbers (e.g. Niue) have 7. */
export const msisdnDigitsMin = 7;
export const msisdnDigitsMax = 15;
/** Longest text looked at: the digits plus a `00` prefix and surrounding blanks. */
const msisdnInputLengthMax = 32;

/**
 * Sandbox test ranges: the UK's Ofcom drama numbers 07700 900000-900999 and the neighbouring
 * 07700 901000-901999, never assigned to a real line. libphonenumber-js (rightly) calls them invalid,
 * so they are accepted here explicitly, as UK mobiles, and nothing else is. Only sandbox carriers
 * cover them, so in production they find no carrier.
 */
export const sandboxMsisdnRanges: readonly { readonly prefix: string; readonly country: string }[] = [
  { prefix: '447700900', country: 'GB' },
  { prefix: '447700901', country: 'GB' },
];
const sandboxMsisdnLength = 12;

/**
 * Number types the library may report for a number we bill. `FIXED_LINE_OR_MOBILE` is the North
 * American plan, where the number alone cannot tell; every other type (fixed line, toll free,
 * premium rate, personal, VoIP, pager…) is refused.
 */
const billableTypes: ReadonlySet<NumberType> = new Set<NumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/**
 * Parses an MSISDN sent by a client: a string of international digits with or without a leading `+`
 * or `00`, or a JSON integer (some clients send the number as one). National forms (`07700…`),
 * separators, letters, lengths outside 7-15 digits, numbers the library finds invalid and numbers it
 * knows are not mobiles are `validation_failed` naming `field`.
 */
export function parseMsisdn(input: unknown, field = 'mx'): ParsedMsisdn {
  const digits = internationalDigits(input, field);
  const sandbox = sandboxMsisdnRanges.find(
    (range) => digits.length === sandboxMsisdnLength && digits.startsWith(range.prefix),
  );
  if (sandbox) return { msisdn: digits as Msisdn, country: sandbox.country };

  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed?.isValid() || parsed.country === undefined) {
    throw invalid(field, `${digits} is not a valid phone number`);
  }
  if (parsed.number !== `+${digits}`) {
    // e.g. 4407700… (a national trunk 0 after the country code): the client must send the number as dialled
    // internationally, since limits and portability are keyed by the exact digits.
    throw invalid(field, `${digits} is not in international form (expected ${parsed.number.slice(1)})`);
  }
  const type = parsed.getType();
  if (type !== undefined && !billableTypes.has(type)) {
    throw invalid(field, `${digits} is not a mobile number (${type.toLowerCase().replaceAll('_', ' ')})`);
  }
  return { msisdn: digits as Msisdn, country: parsed.country };
}

/** True for an ISO 3166-1 alpha-2 code the phone-number metadata knows (upper case). */
export function isCountryCode(code: string): code is CountryCode {
  return /^[A-Z]{2}$/.test(code) && isSupportedCountry(code);
}

/** The country calling code of a region: `GB` → `44`. */
export function callingCodeOf(country: CountryCode): string {
  return getCountryCallingCode(country);
}

function internationalDigits(input: unknown, field: string): string {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input <= 0) throw invalid(field, 'must be a positive whole number');
    text = String(input);
  } else if (typeof input === 'string') {
    if (input.length > msisdnInputLengthMax) throw invalid(field, 'is too long');
    text = input.trim();
  } else {
    throw invalid(field, 'must be a string of digits');
  }
  if (text.startsWith('+')) text = text.slice(1);
  else if (text.startsWith('00')) text = text.slice(2);
  if (!/^[0-9]+$/.test(text))
    throw invalid(field, 'must contain only digits, with an optional leading + or 00');
  if (text.startsWith('0')) throw invalid(field, 'must start with the country code, not a national 0');
  if (text.length < msisdnDigitsMin || text.length > msisdnDigitsMax) {
    throw invalid(field, `must be ${msisdnDigitsMin}-${msisdnDigitsMax} digits with the country code`);
  }
  return text;
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}.`, { field });
}
