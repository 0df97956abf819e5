import type { Selectable } from 'kysely';
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
}

export async function recordEvent(tx: Executor, input: NewEvent): Promise<EventRow> {
  const row = await tx
    .insertInto('events')
    .values({
      merchant_id: input.merchantId,
      environment: input.environment,
      id: newId('event'),
      type: input.type,
      object_id: input.objectId,
      data: JSON.stringify(input.data, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return row;
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
