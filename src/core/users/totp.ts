import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Secret as OtpSecret, TOTP } from 'otpauth';

/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, one step of drift either way) through the
 * maintained `otpauth` library. Secrets are stored encrypted (AES-256-GCM with a key derived from the
 * master key), so a database dump alone cannot mint codes.
 */
export const totpPurpose = 'portal:totp';

export function newTotpSecret(): string {
  return new OtpSecret({ size: 20 }).base32;
}

function totp(secretBase32: string, label: string): TOTP {
  return new TOTP({
    issuer: 'Payloom',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: OtpSecret.fromBase32(secretBase32),
  });
}

export function totpUri(secretBase32: string, label: string): string {
  return totp(secretBase32, label).toString();
}

export function totpCode(secretBase32: string, at: Date): string {
  return totp(secretBase32, 'x').generate({ timestamp: at.getTime() });
}

export function totpValid(secretBase32: string, code: string, at: Date): boolean {
  if (!/^\d{6}$/.test(code)) return false;
  return totp(secretBase32, 'x').validate({ token: code, timestamp: at.getTime(), window: 1 }) !== null;
}

export function encryptTotpSecret(key: Buffer, secretBase32: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(secretBase32, 'utf8'), cipher.final()]);
  return [
    'v1',
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    body.toString('base64url'),
  ].join('.');
}

export function decryptTotpSecret(key: Buffer, stored: string): string {
  const [version, iv, tag, body] = stored.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('invariant violated: malformed TOTP secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
