import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { assert } from '../../core/errors/errors.js';
import { newId } from '../../core/ids/ids.js';
import type { Secret } from '../../core/secrets/secrets.js';

/**
 * The pure part of carrier-billing PINs: digits from a CSPRNG, the keyed hash they are stored as, the
 * constant-time comparison and the limits. No I/O here; `pins.ts` is the repository that uses them.
 */

/** Carriers choose a PIN length in this range; 6 when they say nothing (reliability.md B7). */
export const pinLengthMin = 4;
export const pinLengthMax = 8;
export const pinLengthDefault = 6;

/** The HMAC key must be a real secret, not a placeholder. */
export const pinPepperLengthMin = 16;
/** HMAC-SHA256 digests are 32 bytes; the column's CHECK says the same. */
export const pinHashBytes = 32;

/**
 * Limits of part 3 of the carrier-billing brief and reliability.md B7; operators override them from
 * config. `attemptsMax` is copied onto each session when it is created, so changing it does not move the
 * goal posts of a PIN already sent.
 */
export interface PinLimits {
  /** How long a PIN is accepted after it was generated. */
  readonly ttlSeconds: number;
  /** Wrong PINs accepted for evaluation per session. */
  readonly attemptsMax: number;
  /** PINs generated per MSISDN (all merchants of one environment) in any rolling 10 minutes. */
  readonly perMsisdnPer10Minutes: number;
  /** PINs generated per MSISDN (all merchants of one environment) in any rolling 24 hours. */
  readonly perMsisdnPerDay: number;
  /** Wrong PINs in a row, across sessions, that lock the MSISDN. */
  readonly consecutiveFailuresMax: number;
  /** A failure streak older than this starts again at one (B7: "20 consecutive failures per 24 h"). */
  readonly consecutiveFailuresWindowSeconds: number;
  /** How long a locked MSISDN stays locked. */
  readonly lockSeconds: number;
}

export const defaultPinLimits: PinLimits = {
  ttlSeconds: 300,
  attemptsMax: 5,
  perMsisdnPer10Minutes: 3,
  perMsisdnPerDay: 10,
  consecutiveFailuresMax: 20,
  consecutiveFailuresWindowSeconds: 86_400,
  lockSeconds: 1_800,
};

/** Upper bounds that keep an operator's typo from disabling the protection or overflowing a column. */
const limitBounds: Readonly<Record<keyof PinLimits, readonly [number, number]>> = {
  ttlSeconds: [30, 3_600],
  attemptsMax: [1, 100],
  perMsisdnPer10Minutes: [1, 1_000],
  perMsisdnPerDay: [1, 10_000],
  consecutiveFailuresMax: [1, 10_000],
  consecutiveFailuresWindowSeconds: [60, 31 * 86_400],
  lockSeconds: [1, 31 * 86_400],
};

/** Defaults with the operator's overrides, each checked against its bounds. */
export function resolvePinLimits(overrides: Partial<PinLimits> = {}): PinLimits {
  const limits: PinLimits = { ...defaultPinLimits, ...stripUndefined(overrides) };
  for (const [name, [min, max]] of Object.entries(limitBounds)) {
    const value = limits[name as keyof PinLimits];
    assert(
      Number.isSafeInteger(value) && value >= min && value <= max,
      `PIN limit ${name} ${value} not in ${min}-${max}`,
    );
  }
  return limits;
}

function stripUndefined(overrides: Partial<PinLimits>): Partial<PinLimits> {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
}

/** A uniform integer in [0, maxExclusive); `crypto.randomInt` unless a test injects another source. */
export type RandomInt = (maxExclusive: number) => number;

/**
 * `length` decimal digits, each uniform and independent (leading zeros included: every one of the
 * 10^length codes is equally likely). `crypto.randomInt` samples without modulo bias.
 */
export function generatePinCode(length: number, random: RandomInt = randomInt): string {
  assert(isPinLength(length), `PIN length ${length} not in ${pinLengthMin}-${pinLengthMax}`);
  let pin = '';
  for (let i = 0; i < length; i++) {
    const digit = random(10);
    assert(Number.isInteger(digit) && digit >= 0 && digit <= 9, 'the random source gave a non-digit');
    pin += String(digit);
  }
  return pin;
}

export function isPinLength(length: number): boolean {
  return Number.isInteger(length) && length >= pinLengthMin && length <= pinLengthMax;
}

/**
 * HMAC-SHA256(pepper, sessionId ‖ ':' ‖ pin). The pepper lives outside the database, so a dump of
 * `pin_sessions` cannot be brute-forced over the 10^8 codes; the session id makes every hash unique.
 */
export function pinHash(pepper: Secret, sessionId: string, pin: string): Buffer {
  const key = pepper.reveal();
  assert(
    key.length >= pinPepperLengthMin,
    `the PIN pepper must be at least ${pinPepperLengthMin} characters`,
  );
  return createHmac('sha256', key).update(`${sessionId}:${pin}`, 'utf8').digest();
}

/**
 * Whether `pin` is the PIN of the session whose stored hash is `storedHash`. Whatever was typed is
 * hashed, so the comparison is always of two 32-byte digests, in constant time.
 */
export function pinMatches(storedHash: Uint8Array, pepper: Secret, sessionId: string, pin: string): boolean {
  const candidate = pinHash(pepper, sessionId, pin);
  assert(storedHash.length === pinHashBytes, 'a stored PIN hash is not 32 bytes');
  return timingSafeEqual(candidate, storedHash);
}

const pinSessionIdPattern = /^pin_[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A PIN session id: `pin_` and the 26 characters of a core id (time-ordered, 80 random bits). The id
 * registry has no `pin` prefix yet, so the body of a `request` id is borrowed.
 */
export function newPinSessionId(nowMs: number): string {
  return newId('pinSession', nowMs);
}

export function isPinSessionId(value: string): boolean {
  return pinSessionIdPattern.test(value);
}
