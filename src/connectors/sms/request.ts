import { smsLocalRawCodes, type SmsSendOutcome, type SmsSendRequest } from '../contracts/sms-gateway.js';
import { planSmsText, type SmsTextPlan } from './encoding.js';

/**
 * Parses a send request at the gateway boundary, the same way for every gateway, so a malformed request
 * is `declined` before anything goes out (and the conformance suite can hold every gateway to it).
 */

/** E.164 allows 15 digits; the shortest international numbers in use have 7. */
const MSISDN = /^[1-9][0-9]{6,14}$/;
/** GSM 03.40 caps an alphanumeric originator at 11 characters; SMSCs accept this conservative set. */
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 .-]{1,11}$/;
const NUMERIC_SENDER = /^[0-9]{1,15}$/;
/** Numbers of this many digits or fewer are short codes, not MSISDNs. */
export const SHORT_CODE_DIGITS_MAX = 8;
export const REFERENCE_LENGTH_MAX = 128;
/** An upper bound on `timeoutMs`, so a caller's mistake cannot park a worker for hours. */
export const SEND_TIMEOUT_MAX_MS = 120_000;

export type SmsSender =
  | { readonly kind: 'alphanumeric'; readonly value: string }
  | { readonly kind: 'short_code'; readonly value: string }
  | { readonly kind: 'international'; readonly value: string };

export interface ParsedSmsRequest {
  readonly reference: string;
  readonly to: string;
  readonly from: SmsSender;
  readonly plan: SmsTextPlan;
}

export type ParseSmsRequestResult =
  | { readonly ok: true; readonly request: ParsedSmsRequest }
  | { readonly ok: false; readonly outcome: SmsSendOutcome };

export function parseSender(from: string): SmsSender | undefined {
  if (NUMERIC_SENDER.test(from)) {
    return from.length <= SHORT_CODE_DIGITS_MAX
      ? { kind: 'short_code', value: from }
      : { kind: 'international', value: from };
  }
  if (ALPHANUMERIC_SENDER.test(from)) return { kind: 'alphanumeric', value: from };
  return undefined;
}

export function parseSmsRequest(request: SmsSendRequest): ParseSmsRequestResult {
  const invalid = (rawMessage: string, segmentCount = 0): ParseSmsRequestResult => ({
    ok: false,
    outcome: { status: 'declined', rawCode: smsLocalRawCodes.invalidRequest, rawMessage, segmentCount },
  });
  if (request.reference.length === 0 || request.reference.length > REFERENCE_LENGTH_MAX) {
    return invalid(`reference must be 1-${REFERENCE_LENGTH_MAX} characters`);
  }
  if (!MSISDN.test(request.to)) {
    return invalid('to must be an international MSISDN: 7-15 digits, no "+", not starting with 0');
  }
  const from = parseSender(request.from);
  if (from === undefined) {
    return invalid('from must be 1-11 alphanumeric characters with a letter, or 1-15 digits');
  }
  const planned = planSmsText(request.text);
  if (!planned.ok) return invalid(`text: ${planned.message}`);
  return { ok: true, request: { reference: request.reference, to: request.to, from, plan: planned.plan } };
}

/** The caller's timeout, bounded; `fallbackMs` is the gateway's configured default. */
export function sendTimeoutMs(request: SmsSendRequest, fallbackMs: number): number {
  const requested = request.timeoutMs ?? fallbackMs;
  if (!Number.isFinite(requested) || requested <= 0) return fallbackMs;
  return Math.min(requested, SEND_TIMEOUT_MAX_MS);
}
