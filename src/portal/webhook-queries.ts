import type { Executor } from '../core/db/db.js';
import type { Environment } from '../core/db/schema.js';

/** The latest deliveries of a merchant's environment with every attempt, for the webhooks page. */
export async function recentDeliveries(
  db: Executor,
  scope: { merchantId: string; environment: Environment },
  limit: number,
) {
  const deliveries = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', (j) =>
      j.onRef('e.merchant_id', '=', 'd.merchant_id').onRef('e.id', '=', 'd.endpoint_id'),
    )
    .innerJoin('events as ev', (j) =>
      j.onRef('ev.merchant_id', '=', 'd.merchant_id').onRef('ev.id', '=', 'd.event_id'),
    )
    .select(['d.id', 'd.status', 'd.attempts', 'd.event_id', 'e.url', 'ev.type as event_type'])
    .where('d.merchant_id', '=', scope.merchantId)
    .where('d.environment', '=', scope.environment)
    .orderBy('d.id', 'desc')
    .limit(limit)
    .execute();
  const ids = deliveries.map((d) => d.id);
  const attempts =
    ids.length === 0
      ? []
      : await db
          .selectFrom('webhook_attempts')
          .selectAll()
          .where('merchant_id', '=', scope.merchantId)
          .where('delivery_id', 'in', ids)
          .orderBy('attempt_no')
          .execute();
  return deliveries.map((d) => ({ ...d, attempt_log: attempts.filter((a) => a.delivery_id === d.id) }));
}
