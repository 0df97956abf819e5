import { describe, expect, it } from 'vitest';
import { Secret } from '../../core/secrets/secrets.js';
import {
  defaultPinLimits,
  generatePinCode,
  isPinSessionId,
  newPinSessionId,
  pinHash,
  pinMatches,
  resolvePinLimits,
} from './pin-codes.js';

const pepper = new Secret('unit-test-pepper-0123456789abcdef');

/** A random source that replays `digits` in order. */
function replay(...digits: number[]) {
  let i = 0;
  return (maxExclusive: number) => {
    expect(maxExclusive).toBe(10);
    const digit = digits[i % digits.length] ?? 0;
    i++;
    return digit;
  };
}

describe('PIN codes', () => {
  it('have exactly the carrier length, 4 to 8 digits', () => {
    for (const length of [4, 5, 6, 7, 8]) {
      for (let i = 0; i < 50; i++) expect(generatePinCode(length)).toMatch(new RegExp(`^\\d{${length}}$`));
    }
  });

  it('refuse lengths outside 4-8 (a carrier misconfiguration is a broken invariant)', () => {
    for (const length of [0, 3, 9, 6.5, Number.NaN])
      expect(() => generatePinCode(length)).toThrow(/PIN length/);
  });

  it('keep leading zeros: every digit comes from the random source, including 0', () => {
    expect(generatePinCode(4, replay(0))).toBe('0000');
    expect(generatePinCode(8, replay(0, 0, 7))).toBe('00700700');
    expect(generatePinCode(6, replay(0, 1, 2, 3, 4, 5))).toBe('012345');
  });

  it('come from the CSPRNG with leading zeros and every digit in every position', () => {
    const seen = Array.from({ length: 6 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      const pin = generatePinCode(6);
      for (let p = 0; p < 6; p++) seen[p]?.add(pin[p] ?? '');
    }
    // P(some digit never appears in some position in 2000 draws) < 6 * 10 * 0.9^2000: never in practice.
    for (const digits of seen) expect([...digits].sort().join('')).toBe('0123456789');
  });

  it('refuse a random source that gives a non-digit', () => {
    expect(() => generatePinCode(4, () => 10)).toThrow(/non-digit/);
  });
});

describe('PIN hashes', () => {
  it('are HMAC-SHA256 digests, not the PIN, and differ per session and per pepper', () => {
    const hash = pinHash(pepper, 'pin_A', '123456');
    expect(hash).toHaveLength(32);
    expect(hash.toString('utf8')).not.toContain('123456');
    expect(hash.toString('hex')).not.toContain('123456');
    expect(pinHash(pepper, 'pin_B', '123456').equals(hash)).toBe(false);
    expect(pinHash(new Secret('another-pepper-0123456789abcdef'), 'pin_A', '123456').equals(hash)).toBe(
      false,
    );
    expect(pinHash(pepper, 'pin_A', '123456').equals(hash)).toBe(true);
  });

  it('match only the right PIN of the right session (any input length compares in constant time)', () => {
    const stored = pinHash(pepper, 'pin_A', '012345');
    expect(pinMatches(stored, pepper, 'pin_A', '012345')).toBe(true);
    expect(pinMatches(new Uint8Array(stored), pepper, 'pin_A', '012345')).toBe(true);
    expect(pinMatches(stored, pepper, 'pin_A', '12345')).toBe(false);
    expect(pinMatches(stored, pepper, 'pin_A', '0123456')).toBe(false);
    expect(pinMatches(stored, pepper, 'pin_A', '')).toBe(false);
    expect(pinMatches(stored, pepper, 'pin_B', '012345')).toBe(false);
  });

  it('refuse a short pepper', () => {
    expect(() => pinHash(new Secret('short'), 'pin_A', '1234')).toThrow(/pepper/);
  });
});

describe('PIN session ids', () => {
  it('are pin_ and 26 Crockford base32 characters, ordered by time', () => {
    const id = newPinSessionId(1_800_000_000_000);
    expect(isPinSessionId(id)).toBe(true);
    expect(newPinSessionId(1_800_000_000_000) < newPinSessionId(1_800_000_000_001)).toBe(true);
    expect(isPinSessionId('req_01HZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(false);
    expect(isPinSessionId('pin_short')).toBe(false);
    expect(isPinSessionId(`${id}x`)).toBe(false);
  });
});

describe('PIN limits', () => {
  it('default to reliability.md B7', () => {
    expect(resolvePinLimits()).toEqual({
      ttlSeconds: 300,
      attemptsMax: 5,
      perMsisdnPer10Minutes: 3,
      perMsisdnPerDay: 10,
      consecutiveFailuresMax: 20,
      consecutiveFailuresWindowSeconds: 86_400,
      lockSeconds: 1800,
    });
    expect(resolvePinLimits()).toEqual(defaultPinLimits);
  });

  it('take the operator overrides and ignore undefined ones', () => {
    expect(resolvePinLimits({ attemptsMax: 3, lockSeconds: undefined })).toMatchObject({
      attemptsMax: 3,
      lockSeconds: 1800,
    });
  });

  it('refuse values that would switch a protection off', () => {
    expect(() => resolvePinLimits({ attemptsMax: 0 })).toThrow(/attemptsMax/);
    expect(() => resolvePinLimits({ ttlSeconds: 86_400 })).toThrow(/ttlSeconds/);
    expect(() => resolvePinLimits({ perMsisdnPerDay: 1.5 })).toThrow(/perMsisdnPerDay/);
  });
});
