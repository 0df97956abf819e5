import type { Selectable } from 'kysely';
import type { Executor } from '../db/db.js';
import type { AuditLogTable, Environment } from '../db/schema.js';

export type AuditRow = Selectable<AuditLogTable>;

export interface AuditEntry {
  actorType: 'operator' | 'merchant' | 'system';
  actorId: string;
  merchantId: string | null;
  environment: Environment | null;
  action: string;
  targetId: string | null;
  requestId: string;
  statusCode: number;
}

export function auditValues(entry: AuditEntry) {
  return {
    actor_type: entry.actorType,
    actor_id: entry.actorId,
    merchant_id: entry.merchantId,
    environment: entry.environment,
    action: entry.action,
    target_id: entry.targetId,
    request_id: entry.requestId,
    outcome: entry.statusCode < 400 ? ('success' as const) : ('failure' as const),
    status_code: entry.statusCode,
  };
}

export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
  await db.insertInto('audit_log').values(auditValues(entry)).execute();
}

export async function listAudit(
  db: Executor,
  filter: { merchantId?: string; limit: number; before?: bigint },
): Promise<AuditRow[]> {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  return query.execute();
}

export function auditView(row: AuditRow) {
  return {
    id: row.id.toString(),
    occurred_at: row.occurred_at.toISOString(),
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    merchant_id: row.merchant_id,
    environment: row.environment,
    action: row.action,
    target_id: row.target_id,
    request_id: row.request_id,
    outcome: row.outcome,
    status_code: row.status_code,
  };
}
