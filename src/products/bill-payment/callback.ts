import type { EventFormat } from '../../core/webhooks/dispatch.js';
import { bodySignature, signingSecretOf } from './auth.js';
import { openToken } from './seal.js';

/**
 * Transact Result as the bank or client receives it (clickatell-payd.md §6.2): a POST of the JSON
 * payload to the funding source's result URL, with `Signature: base64(HMAC-SHA256(secret, body))` when
 * the client has signing enabled. Delivered by the core webhook engine (retries, SSRF guard); any 2xx —
 * the vendor's documented acknowledgement is HTTP 202 — ends the delivery.
 */
export const transactResultFormatName = 'payd-transact-result';

export function transactResultFormat(signingKey: Buffer, sealKey: Buffer): EventFormat {
  return {
    name: transactResultFormatName,
    method: 'POST',
    build(event, endpoint) {
      const data = event.data as {
        client_id?: unknown;
        signed?: unknown;
        token_sealed?: unknown;
        payload?: unknown;
      };
      const payload = {
        ...(typeof data.payload === 'object' && data.payload !== null ? data.payload : {}),
      } as Record<string, unknown>;
      if (typeof data.token_sealed === 'string' && typeof payload.raasTxnRef === 'string') {
        payload.token = openToken(sealKey, payload.raasTxnRef, data.token_sealed);
      }
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (data.signed === true && typeof data.client_id === 'number') {
        headers.Signature = bodySignature(signingSecretOf(signingKey, data.client_id), body);
      }
      return { method: 'POST', url: endpoint.url, headers, body };
    },
  };
}
