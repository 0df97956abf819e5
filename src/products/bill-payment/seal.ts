import { decryptMx, encryptMx } from '../carrier-billing/mx.js';

/**
 * Vend tokens (electricity tokens, voucher PINs) are value: they are kept encrypted at rest and in
 * events (AES-256-GCM under a key derived for this purpose, the `raasTxnRef` as associated data), and
 * opened only where the buyer's side receives them — Transact Result, Transaction and Token Lookup.
 */
export function sealToken(key: Buffer, raasTxnRef: string, token: string): string {
  return encryptMx(key, `bill-payment token ${raasTxnRef}`, token);
}

export function openToken(key: Buffer, raasTxnRef: string, sealed: string | null): string | null {
  if (sealed === null) return null;
  return decryptMx(key, `bill-payment token ${raasTxnRef}`, sealed) ?? null;
}
