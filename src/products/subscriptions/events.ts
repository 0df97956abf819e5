import { randomUUID } from 'node:crypto';
import type { Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { recordEvent } from '../../core/events/events.js';

/**
 * SmartPay notifications (README.md "Webhooks"). Every one is a core event of type
 * `smartpay.<eventType>` whose data is the notification body (less `createdAt`, added at delivery):
 * `{id: "event-<uuid>", sourceSystem, origin, eventType, objectId, objectType, status?, data}`.
 */
export const spEventTypes = [
  'created',
  'updated',
  'deleted',
  'status.updated',
  'billing.expires',
  'billing.updated',
  'billing.scheduled',
] as const;
export type SpEventType = (typeof spEventTypes)[number];
export type SpOrigin = 'api' | 'widget' | 'automated';
export type SpObjectType =
  'plan' | 'subscription' | 'billing-cycle' | 'payment-series' | 'transaction' | 'manual-retry';

export const spEventPrefix = 'smartpay.';

export async function spEvent(
  tx: Executor,
  input: {
    merchantId: string;
    environment: Environment;
    eventType: SpEventType;
    origin: SpOrigin;
    objectType: SpObjectType;
    objectId: string;
    status?: string | null;
    data: Record<string, unknown>;
    testClockId?: string | null;
  },
): Promise<void> {
  await recordEvent(tx, {
    merchantId: input.merchantId,
    environment: input.environment,
    type: `${spEventPrefix}${input.eventType}`,
    objectId: input.objectId,
    data: {
      id: `event-${randomUUID()}`,
      sourceSystem: 'subscription-module',
      origin: input.origin,
      eventType: input.eventType,
      objectId: input.objectId,
      objectType: input.objectType,
      ...(input.status !== undefined ? { status: input.status } : {}),
      data: input.data,
    },
    testClockId: input.testClockId ?? null,
    product: 'subscriptions',
  });
}
