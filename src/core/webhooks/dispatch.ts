import { sql } from 'kysely';
import { transaction, type Db } from '../db/db.js';
import { deliverQueue } from '../events/events.js';
import { enqueue } from '../jobs/jobs.js';
import { Secret } from '../secrets/secrets.js';
import { standardWebhookFormat, type CallbackFormat } from './callback-format.js';
import { deliver, type DeliveryResult } from './delivery.js';
import { nextAttemptDelaySeconds } from './schedule.js';

/**
 * The `webhooks.deliver` job: one attempt of one delivery. Safe to run twice (a delivered, failed or
 * cancelled delivery is left alone; a receiver may see an attempt twice after a crash and dedupes on
 * `webhook-id`). A retry is a new job at the schedule's next time, on the event's clock.
 */
/** What a callback format gets to build one attempt's request from. */
export interface DispatchedEvent {
  readonly id: string;
  readonly type: string;
  readonly merchantId: string;
  readonly environment: 'sandbox' | 'production';
  readonly createdAt: Date;
  readonly data: Readonly<Record<string, unknown>>;
}

export type EventFormat = CallbackFormat<DispatchedEvent>;

/** The native API's format: Standard Webhooks with a JSON body `{id, type, created_at, environment, data}`. */
export const standardEventFormat: EventFormat = {
  name: 'standard-webhooks',
  method: 'POST',
  build(event, endpoint, attempt) {
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      created_at: event.createdAt.toISOString(),
      environment: event.environment,
      data: event.data,
    });
    return standardWebhookFormat.build({ id: event.id, body }, endpoint, attempt);
  },
};

export interface DispatchOptions {
  readonly allowPrivate: boolean;
  readonly timeoutMs?: number;
  readonly random?: () => number;
  /** Product callback formats by name (endpoint `format`); Standard Webhooks is built in. */
  readonly formats?: ReadonlyMap<string, EventFormat>;
}

interface DeliveryContext {
  merchant_id: string;
  id: string;
  environment: 'sandbox' | 'production';
  status: string;
  attempts: number;
  test_clock_id: string | null;
  url: string;
  enabled: boolean;
  secret: string;
  previous_secret: string | null;
  previous_live: boolean;
  event_id: string;
  event_type: string;
  object_id: string;
  data: Record<string, unknown>;
  event_created_at: Date;
  endpoint_id: string;
  format: string;
}

export async function dispatchDelivery(
  db: Db,
  input: { merchantId: string; deliveryId: string },
  now: Date,
  options: DispatchOptions,
): Promise<'delivered' | 'retrying' | 'failed' | 'skipped'> {
  const { rows } = await sql<DeliveryContext>`
    SELECT d.merchant_id, d.id, d.environment, d.status, d.attempts, d.test_clock_id, e.url, e.enabled, e.secret,
           e.previous_secret, coalesce(e.previous_secret_expires_at > now(), false) AS previous_live,
           ev.id AS event_id, ev.type AS event_type, ev.object_id, ev.data, ev.created_at AS event_created_at,
           e.id AS endpoint_id, e.format
      FROM webhook_deliveries d
      JOIN webhook_endpoints e ON e.merchant_id = d.merchant_id AND e.id = d.endpoint_id
      JOIN events ev ON ev.merchant_id = d.merchant_id AND ev.id = d.event_id
     WHERE d.merchant_id = ${input.merchantId} AND d.id = ${input.deliveryId}`.execute(db);
  const delivery = rows[0];
  if (!delivery || delivery.status !== 'pending') return 'skipped';
  if (!delivery.enabled) {
    await db
      .updateTable('webhook_deliveries')
      .set({ status: 'cancelled', last_error: 'endpoint disabled', updated_at: sql<Date>`now()` })
      .where('merchant_id', '=', delivery.merchant_id)
      .where('id', '=', delivery.id)
      .where('status', '=', 'pending')
      .execute();
    return 'skipped';
  }
  const secrets = [new Secret(delivery.secret)];
  if (delivery.previous_secret && delivery.previous_live) secrets.push(new Secret(delivery.previous_secret));
  const format =
    delivery.format === standardEventFormat.name
      ? standardEventFormat
      : options.formats?.get(delivery.format);
  if (!format) {
    await db
      .updateTable('webhook_deliveries')
      .set({
        status: 'failed',
        last_error: `unknown callback format ${delivery.format}`,
        updated_at: sql<Date>`now()`,
      })
      .where('merchant_id', '=', delivery.merchant_id)
      .where('id', '=', delivery.id)
      .execute();
    return 'failed';
  }
  const event: DispatchedEvent = {
    id: delivery.event_id,
    type: delivery.event_type,
    merchantId: delivery.merchant_id,
    environment: delivery.environment,
    createdAt: delivery.event_created_at,
    data: delivery.data,
  };
  // Signatures carry real time: the receiver checks them against its own clock, test clock or not.
  let extraHeaders: Readonly<Record<string, string>> = {};
  if (format.authorize) {
    try {
      extraHeaders = await format.authorize(event);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return record(
        db,
        delivery,
        { outcome: 'retry', latencyMs: 0, responseSnippet: '', error: { code: 'authorization', message } },
        now,
        options,
        format.retryDelaysSeconds,
      );
    }
  }
  const request = format.build(event, { url: delivery.url, secrets }, { now: new Date() });
  const result = await deliver({
    url: request.url,
    method: request.method,
    headers: { ...request.headers, ...extraHeaders },
    ...(request.body !== undefined ? { body: request.body } : {}),
    allowPrivate: options.allowPrivate,
    requireHttps: delivery.environment === 'production' && !options.allowPrivate,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return record(db, delivery, result, now, options, format.retryDelaysSeconds);
}

async function record(
  db: Db,
  delivery: DeliveryContext,
  result: DeliveryResult,
  now: Date,
  options: DispatchOptions,
  delays?: readonly number[],
): Promise<'delivered' | 'retrying' | 'failed'> {
  const attemptNo = delivery.attempts + 1;
  const delay =
    result.outcome === 'retry'
      ? nextAttemptDelaySeconds(attemptNo, {
          random: options.random ?? Math.random,
          ...(delays ? { delays } : {}),
          ...(result.retryAfterSeconds !== undefined ? { retryAfterSeconds: result.retryAfterSeconds } : {}),
        })
      : undefined;
  const status = result.outcome === 'delivered' ? 'delivered' : delay === undefined ? 'failed' : 'pending';
  const nextAt = delay === undefined ? null : new Date(now.getTime() + delay * 1000);
  const error = result.error ? `${result.error.code}: ${result.error.message}` : null;
  await transaction(db, async (tx) => {
    await tx
      .insertInto('webhook_attempts')
      .values({
        merchant_id: delivery.merchant_id,
        delivery_id: delivery.id,
        attempt_no: attemptNo,
        outcome: result.outcome,
        status_code: result.statusCode ?? null,
        latency_ms: Math.round(result.latencyMs),
        response_snippet: result.responseSnippet,
        error,
      })
      .onConflict((oc) => oc.columns(['merchant_id', 'delivery_id', 'attempt_no']).doNothing())
      .execute();
    await tx
      .updateTable('webhook_deliveries')
      .set({
        status,
        attempts: attemptNo,
        last_status_code: result.statusCode ?? null,
        last_error: error,
        next_attempt_at: nextAt,
        delivered_at: status === 'delivered' ? sql<Date>`now()` : null,
        updated_at: sql<Date>`now()`,
      })
      .where('merchant_id', '=', delivery.merchant_id)
      .where('id', '=', delivery.id)
      .execute();
    if (result.outcome === 'disable') {
      await tx
        .updateTable('webhook_endpoints')
        .set({
          enabled: false,
          disabled_reason: 'the endpoint answered 410 Gone',
          updated_at: sql<Date>`now()`,
        })
        .where('merchant_id', '=', delivery.merchant_id)
        .where('id', '=', delivery.endpoint_id)
        .execute();
    }
    if (nextAt) {
      await enqueue(tx, {
        queue: deliverQueue,
        payload: { merchantId: delivery.merchant_id, deliveryId: delivery.id },
        merchantId: delivery.merchant_id,
        environment: delivery.environment,
        testClockId: delivery.test_clock_id,
        runAt: nextAt,
      });
    }
  });
  return status === 'pending' ? 'retrying' : status;
}

/** Manual replay: a delivery goes back to pending and is attempted at once (on its clock). */
export async function retryDelivery(
  db: Db,
  scope: { merchantId: string; environment: 'sandbox' | 'production' },
  id: string,
) {
  return transaction(db, async (tx) => {
    const row = await tx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: null, updated_at: sql<Date>`now()` })
      .where('merchant_id', '=', scope.merchantId)
      .where('environment', '=', scope.environment)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    await enqueue(tx, {
      queue: deliverQueue,
      payload: { merchantId: row.merchant_id, deliveryId: row.id },
      merchantId: row.merchant_id,
      environment: row.environment,
      testClockId: row.test_clock_id,
    });
    return row;
  });
}
