import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encrypted MSISDNs (`mx` in callbacks): AES-256-GCM under a key derived for this purpose, with the
 * merchant id as associated data, so only that merchant's `DecryptMX` call can open it.
 */
const ivBytes = 12;
const tagBytes = 16;

export function encryptMx(key: Buffer, merchantId: string, msisdn: string): string {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(merchantId));
  const body = Buffer.concat([cipher.update(msisdn, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

export function decryptMx(key: Buffer, merchantId: string, mx: string): string | undefined {
  try {
    const raw = Buffer.from(mx, 'base64url');
    if (raw.length <= ivBytes + tagBytes) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, ivBytes));
    decipher.setAAD(Buffer.from(merchantId));
    decipher.setAuthTag(raw.subarray(raw.length - tagBytes));
    return Buffer.concat([
      decipher.update(raw.subarray(ivBytes, raw.length - tagBytes)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
}
