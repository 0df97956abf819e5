import { sql } from 'kysely';
import type { Executor } from '../core/db/db.js';
import type { Environment } from '../core/db/schema.js';

/** The longest range the stats endpoint answers in one call (days). */
export const statsRangeDaysMax = 366;

export type Outcome = 'succeeded' | 'failed' | 'pending';

export interface StatsRow {
  day: string;
  product: string;
  outcome: Outcome;
  currency: string;
  count: number;
  volume_minor: string;
}

export interface Stats {
  from: string;
  to: string;
  days: StatsRow[];
  totals: { count: number; succeeded: number; failed: number; success_rate: number | null };
}

/**
 * Daily payment count and volume by product, outcome and currency (UTC days), over sales and
 * authorizations (refunds are not volume). One statement; the charts page draws exactly these numbers.
 * Succeeded = succeeded or captured; failed = failed, voided or expired; the rest is pending.
 */
export async function paymentStats(
  db: Executor,
  scope: { merchantId?: string; environment?: Environment },
  range: { from: Date; to: Date },
): Promise<Stats> {
  const merchantFilter = scope.merchantId ? sql`AND merchant_id = ${scope.merchantId}` : sql``;
  const environmentFilter = scope.environment ? sql`AND environment = ${scope.environment}` : sql``;
  const { rows } = await sql<{
    day: string;
    product: string;
    outcome: Outcome;
    currency: string;
    count: bigint;
    volume: bigint;
  }>`
    SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
           product,
           CASE WHEN status IN ('succeeded', 'captured') THEN 'succeeded'
                WHEN status IN ('failed', 'voided', 'expired') THEN 'failed'
                ELSE 'pending' END AS outcome,
           currency,
           count(*)::bigint AS count,
           coalesce(sum(amount_minor), 0)::bigint AS volume
      FROM payments
     WHERE kind <> 'refund' AND created_at >= ${range.from} AND created_at < ${range.to}
           ${merchantFilter} ${environmentFilter}
     GROUP BY 1, 2, 3, 4
     ORDER BY 1, 2, 3, 4`.execute(db);
  const days = rows.map((r) => ({
    day: r.day,
    product: r.product,
    outcome: r.outcome,
    currency: r.currency,
    count: Number(r.count),
    volume_minor: r.volume.toString(),
  }));
  const count = days.reduce((n, d) => n + d.count, 0);
  const succeeded = days.filter((d) => d.outcome === 'succeeded').reduce((n, d) => n + d.count, 0);
  const failed = days.filter((d) => d.outcome === 'failed').reduce((n, d) => n + d.count, 0);
  const decided = succeeded + failed;
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    days,
    totals: { count, succeeded, failed, success_rate: decided === 0 ? null : succeeded / decided },
  };
}

/** `from`/`to` as YYYY-MM-DD (UTC days; `to` inclusive); defaults to the last 30 days. */
export function statsRange(now: Date, from?: string, to?: string): { from: Date; to: Date } {
  const dayMs = 86_400_000;
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const end = to ? Date.parse(`${to}T00:00:00Z`) + dayMs : today + dayMs;
  const start = from ? Date.parse(`${from}T00:00:00Z`) : end - 30 * dayMs;
  return { from: new Date(start), to: new Date(end) };
}
