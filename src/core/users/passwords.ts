import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/errors.js';

/**
 * Passwords are hashed with scrypt (memory-hard; node:crypto, no native add-on): N = 2^15, r = 8, p = 1
 * uses 32 MiB per hash, OWASP's recommended minimum. The stored form names its parameters so they can be
 * raised later without breaking existing hashes: `scrypt$N$r$p$salt$hash` (base64url).
 */
const params = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, saltLength: 16 };
export const passwordLengthMin = 10;
export const passwordLengthMax = 200;

function derive(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, { N, r, p, maxmem: 128 * N * r * 2 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(params.saltLength);
  const key = await derive(password, salt, params.N, params.r, params.p, params.keyLength);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(
    password,
    Buffer.from(salt, 'base64url'),
    Number(n),
    Number(r),
    Number(p),
    expected.length,
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing, checked when the email is unknown so both answers take as long. */
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('payloom-dummy-password');
  await verifyPassword(password, await dummyHash);
}

/** The most common passwords of public breach lists (those of at least the minimum length). */
const commonPasswords = new Set([
  '1234567890',
  '12345678910',
  '0123456789',
  '1111111111',
  '0000000000',
  '123456789a',
  'qwertyuiop',
  'password12',
  'password123',
  'password1234',
  'passw0rd123',
  'iloveyou123',
  'qwerty12345',
  'qwerty123456',
  '1q2w3e4r5t',
  '1q2w3e4r5t6y',
  'abcdefghij',
  'abc1234567',
  'football123',
  'baseball123',
  'welcome123',
  'letmein123',
  'administrator',
  'sunshine123',
  'princess123',
  'changeme123',
  'superman123',
  'trustno1234',
  'starwars123',
  'monkey12345',
  'dragon12345',
  'zaq12wsxcde',
  'asdfghjkl1',
  'asdfghjkl;',
  'zxcvbnm123',
  'passwordpassword',
  'aaaaaaaaaa',
  '9876543210',
  'qwertyuiop123',
  'payloom123',
  'payloompassword',
]);

/** Rejects short, long and common passwords with the API's field error. */
export function checkPasswordPolicy(password: string, field = '/password'): void {
  if (password.length < passwordLengthMin) {
    throw new AppError(
      'validation_failed',
      `The password must be at least ${passwordLengthMin} characters.`,
      {
        field,
      },
    );
  }
  if (password.length > passwordLengthMax) {
    throw new AppError('validation_failed', `The password must be at most ${passwordLengthMax} characters.`, {
      field,
    });
  }
  if (commonPasswords.has(password.toLowerCase())) {
    throw new AppError('validation_failed', 'This password is too common; choose another.', { field });
  }
}
