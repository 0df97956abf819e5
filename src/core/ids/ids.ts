import { randomBytes } from 'node:crypto';

/**
 * Prefixed public ids from one registry (STYLE.md §12). An id is the prefix, `_`, then 26 Crockford
 * base32 characters: 48 bits of milliseconds since the epoch and 80 random bits, so ids sort by creation
 * time (cursor pagination orders by id) and cannot be guessed.
 */
export const idPrefixes = {
  merchant: 'mer',
  credential: 'cred',
  operatorKey: 'opk',
  accessRequest: 'acc',
  request: 'req',
  testClock: 'clock',
  payment: 'pay',
  ledgerTransaction: 'ltx',
  hold: 'hold',
  event: 'evt',
  webhookEndpoint: 'we',
  webhookDelivery: 'whd',
  sms: 'sms',
  pinSession: 'pin',
  carrier: 'car',
  user: 'usr',
  mail: 'mail',
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeBase32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  const bytes = new Uint8Array(16);
  let t = nowMs;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes.set(randomBytes(10), 6);
  // 128 bits encode to 26 characters (the last carries 3 bits).
  return `${idPrefixes[kind]}_${encodeBase32(bytes)}`;
}

const idPattern = /^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$/;

export function isId(kind: IdKind, value: string): boolean {
  return value.startsWith(`${idPrefixes[kind]}_`) && idPattern.test(value);
}
