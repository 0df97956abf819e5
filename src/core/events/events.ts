import { sql, type Selectable } from 'kysely';
import type { Executor } from '../db/db.js';
import type { Environment, EventsTable } from '../db/schema.js';
import { newId } from '../ids/ids.js';

/**
 * The events outbox: every state change writes its event in the same transaction (DESIGN.md §2).
 * Delivery to webhook endpoints fans out from here.
 */
export type EventRow = Selectable<EventsTable>;

export interface NewEvent {
  merchantId: string;
  environment: Environment;
  type: string;
  objectId: string;
  data: Record<string, unknown>;
  /** The object's test clock: webhook retries for this event are scheduled on it. */
  testClockId?: string | null;
  /** The product the event belongs to: endpoints limited to another product do not get it. */
  product?: string | null;
}

export const deliverQueue = 'webhooks.deliver';

/**
 * Writes the event and fans it out, in one statement: a delivery for every enabled endpoint of the
 * merchant and environment that wants this type, and a job for each delivery. A delivery id is the
 * event's id joined with the endpoint's, so it is unique and sorts by event time.
 */
export async function recordEvent(tx: Executor, input: NewEvent): Promise<string> {
  const id = newId('event');
  const data = JSON.stringify(input.data, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const clock = input.testClockId ?? null;
  await sql`
    WITH ev AS (
      INSERT INTO events (merchant_id, environment, id, type, object_id, data)
      VALUES (${input.merchantId}, ${input.environment}, ${id}, ${input.type}, ${input.objectId}, ${data}::jsonb)
    ), d AS (
      INSERT INTO webhook_deliveries (merchant_id, id, environment, endpoint_id, event_id, test_clock_id)
      SELECT merchant_id, 'whd_' || substr(${id}, 5) || substr(id, 4), environment, id, ${id}, ${clock}
        FROM webhook_endpoints
       WHERE merchant_id = ${input.merchantId} AND environment = ${input.environment} AND enabled
         AND (cardinality(event_types) = 0 OR ${input.type} = ANY(event_types))
         AND (product IS NULL OR product = ${input.product ?? null})
      RETURNING merchant_id, id
    )
    INSERT INTO jobs (queue, payload, merchant_id, environment, test_clock_id, run_at)
    SELECT ${deliverQueue}, jsonb_build_object('merchantId', merchant_id, 'deliveryId', id), merchant_id,
           ${input.environment}, ${clock},
           coalesce((SELECT frozen_time FROM test_clocks WHERE id = ${clock}), now())
      FROM d`.execute(tx);
  return id;
}

export function eventView(row: EventRow) {
  return {
    id: row.id,
    type: row.type,
    object_id: row.object_id,
    environment: row.environment,
    created_at: row.created_at.toISOString(),
    data: row.data,
  };
}

export async function listEvents(
  db: Executor,
  filter: {
    merchantId: string;
    environment: Environment;
    limit: number;
    startingAfter?: string;
    type?: string;
  },
): Promise<EventRow[]> {
  let query = db
    .selectFrom('events')
    .selectAll()
    .where('merchant_id', '=', filter.merchantId)
    .where('environment', '=', filter.environment)
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  if (filter.type) query = query.where('type', '=', filter.type);
  return query.execute();
}

export async function getEvent(
  db: Executor,
  scope: { merchantId: string; environment: Environment },
  id: string,
): Promise<EventRow | undefined> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .where('id', '=', id)
    .executeTakeFirst();
}
