import { createEndpoint } from '../../core/webhooks/endpoints.js';
import { callbackEventType, callbackFormatName } from './callback.js';

/** The merchant's endpoint that carries this dialect's callbacks (the URL is in each event). */
export async function ensureCallbackEndpoint(
  tx: Parameters<typeof createEndpoint>[0],
  merchantId: string,
  environment: 'sandbox' | 'production',
): Promise<void> {
  const existing = await tx
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .where('environment', '=', environment)
    .where('format', '=', callbackFormatName)
    .executeTakeFirst();
  if (existing) return;
  await createEndpoint(tx, {
    merchantId,
    environment,
    url: 'https://callbacks.invalid/mobilepay-subscriptions',
    description: 'MobilePay Subscriptions callbacks (the target URL is in each event)',
    eventTypes: [callbackEventType],
    format: callbackFormatName,
    product: 'agreements',
  });
}
