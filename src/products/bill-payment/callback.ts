import type { EventFormat } from '../../core/webhooks/dispatch.js';
import { bodySignature, signingSecretOf } from './auth.js';

/**
 * Transact Result as the bank or client receives it (clickatell-payd.md §6.2): a POST of the JSON
 * payload to the funding source's result URL, with `Signature: base64(HMAC-SHA256(secret, body))` when
 * the client has signing enabled. Delivered by the core webhook engine (retries, SSRF guard); any 2xx —
 * the vendor's documented acknowledgement is HTTP 202 — ends the delivery.
 */
export const transactResultFormatName = 'payd-transact-result';

export function transactResultFormat(signingKey: Buffer): EventFormat {
  return {
    name: transactResultFormatName,
    method: 'POST',
    build(event, endpoint) {
      const data = event.data as { client_id?: unknown; signed?: unknown; payload?: unknown };
      const body = JSON.stringify(data.payload ?? {});
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (data.signed === true && typeof data.client_id === 'number') {
        headers.Signature = bodySignature(signingSecretOf(signingKey, data.client_id), body);
      }
      return { method: 'POST', url: endpoint.url, headers, body };
    },
  };
}
