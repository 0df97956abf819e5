import { sql } from 'kysely';
import type { Executor } from '../core/db/db.js';
import type { Environment, PaymentStatus } from '../core/db/schema.js';
import { AppError } from '../core/errors/errors.js';
import { withPortalTables } from '../core/users/schema.js';

/** Operator read models across merchants (the console and its /v1 endpoints share them). */
export async function systemHealth(db: Executor) {
  const { rows } = await sql<{
    migrations: bigint;
    queued: bigint;
    due: bigint;
    running: bigint;
    failed: bigint;
    workers: bigint;
    pending_access: bigint;
  }>`
    SELECT (SELECT count(*) FROM schema_migrations)::bigint AS migrations,
           count(*) FILTER (WHERE state = 'queued')::bigint AS queued,
           count(*) FILTER (WHERE state = 'queued' AND run_at <= now())::bigint AS due,
           count(*) FILTER (WHERE state = 'running')::bigint AS running,
           count(*) FILTER (WHERE state = 'failed')::bigint AS failed,
           count(DISTINCT locked_by) FILTER (WHERE state = 'running' AND locked_until > now())::bigint AS workers,
           (SELECT count(*) FROM product_access WHERE status = 'pending')::bigint AS pending_access
      FROM jobs`.execute(db);
  const row = rows[0];
  return {
    database: 'ok' as const,
    migrations_applied: Number(row?.migrations ?? 0),
    jobs: {
      queued: Number(row?.queued ?? 0),
      due: Number(row?.due ?? 0),
      running: Number(row?.running ?? 0),
      failed: Number(row?.failed ?? 0),
    },
    workers_busy: Number(row?.workers ?? 0),
    pending_access_requests: Number(row?.pending_access ?? 0),
  };
}

export async function listJobs(
  db: Executor,
  filter: { state?: 'queued' | 'running' | 'failed'; limit: number; before?: bigint },
) {
  let query = db
    .selectFrom('jobs')
    .select([
      'id',
      'queue',
      'state',
      'attempts',
      'attempts_max',
      'run_at',
      'merchant_id',
      'last_error',
      'failed_at',
      'created_at',
    ])
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.state) query = query.where('state', '=', filter.state);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  return query.execute();
}

export type JobListRow = Awaited<ReturnType<typeof listJobs>>[number];

export function jobView(row: JobListRow) {
  return {
    id: row.id.toString(),
    queue: row.queue,
    state: row.state,
    attempts: row.attempts,
    attempts_max: row.attempts_max,
    run_at: row.run_at.toISOString(),
    merchant_id: row.merchant_id,
    last_error: row.last_error,
    failed_at: row.failed_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

/** A failed job runs again: back to queued, due now, with a fresh attempt budget. */
export async function retryJob(db: Executor, id: bigint) {
  const row = await db
    .updateTable('jobs')
    .set({
      state: 'queued',
      run_at: sql<Date>`now()`,
      attempts: 0,
      failed_at: null,
      locked_by: null,
      locked_until: null,
    })
    .where('id', '=', id)
    .where('state', '=', 'failed')
    .returning([
      'id',
      'queue',
      'state',
      'attempts',
      'attempts_max',
      'run_at',
      'merchant_id',
      'last_error',
      'failed_at',
      'created_at',
    ])
    .executeTakeFirst();
  if (!row) throw new AppError('conflict', `Job ${id} is not failed (or does not exist).`);
  return row;
}

export async function listAllPayments(
  db: Executor,
  filter: {
    merchantId?: string;
    environment?: Environment;
    status?: PaymentStatus;
    limit: number;
    startingAfter?: string;
  },
) {
  let query = db
    .selectFrom('payments')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.environment) query = query.where('environment', '=', filter.environment);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  return query.execute();
}

export async function listAuditFiltered(
  db: Executor,
  filter: {
    merchantId?: string;
    actorType?: 'operator' | 'merchant' | 'system';
    actorId?: string;
    action?: string;
    limit: number;
    before?: bigint;
  },
) {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.actorType) query = query.where('actor_type', '=', filter.actorType);
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  if (filter.action) query = query.where('action', 'like', `%${filter.action.replace(/[%_\\]/g, '\\$&')}%`);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  return query.execute();
}

export async function listAllDeliveries(db: Executor, filter: { status?: string; limit: number }) {
  let query = db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', (j) =>
      j.onRef('e.merchant_id', '=', 'd.merchant_id').onRef('e.id', '=', 'd.endpoint_id'),
    )
    .select([
      'd.id',
      'd.merchant_id',
      'd.environment',
      'd.event_id',
      'd.status',
      'd.attempts',
      'd.last_status_code',
      'd.last_error',
      'e.url',
    ])
    .orderBy('d.id', 'desc')
    .limit(filter.limit);
  if (
    filter.status === 'pending' ||
    filter.status === 'delivered' ||
    filter.status === 'failed' ||
    filter.status === 'cancelled'
  ) {
    query = query.where('d.status', '=', filter.status);
  }
  return query.execute();
}

export async function merchantUsersAndAccess(db: Executor, merchantId: string) {
  const pdb = withPortalTables(db);
  const [users, access] = await Promise.all([
    pdb.selectFrom('portal_users').selectAll().where('merchant_id', '=', merchantId).orderBy('id').execute(),
    db
      .selectFrom('product_access')
      .selectAll()
      .where('merchant_id', '=', merchantId)
      .orderBy('id', 'desc')
      .execute(),
  ]);
  return { users, access };
}
