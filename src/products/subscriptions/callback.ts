import type { EventFormat } from '../../core/webhooks/dispatch.js';
import { timestamp } from './dialect.js';

/**
 * SmartPay notifications (README.md "Webhooks"): POST of the JSON body to the merchant's notification
 * URL, with `Authorization: Basic …` when the merchant configured a user name and password (kept as the
 * endpoint's secret in the form `basic:<base64(user:password)>`), and no auth otherwise.
 */
export const callbackFormatName = 'smartpay-notification';
export const basicSecretPrefix = 'basic:';

export const smartpayCallbackFormat: EventFormat = {
  name: callbackFormatName,
  method: 'POST',
  build(event, endpoint) {
    const data = event.data as Record<string, unknown>;
    const { id, sourceSystem, origin, eventType, objectId, ...rest } = data;
    const body = JSON.stringify({
      id,
      createdAt: timestamp(event.createdAt),
      sourceSystem,
      origin,
      eventType,
      objectId,
      ...rest,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const secret = endpoint.secrets[0]?.reveal() ?? '';
    if (secret.startsWith(basicSecretPrefix))
      headers.authorization = `Basic ${secret.slice(basicSecretPrefix.length)}`;
    return { method: 'POST', url: endpoint.url, headers, body };
  },
};
