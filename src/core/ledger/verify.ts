import { sql } from 'kysely';
import type { Executor } from '../db/db.js';

/**
 * `payloom ledger verify`: recomputes every account from its entries, checks every transaction sums to
 * zero per currency, that open holds equal the held balances, and that what merchants are owed equals
 * what their payments captured less what was refunded. Any difference is a finding.
 */
export interface LedgerReport {
  transactions: number;
  entries: number;
  accounts: number;
  totals: Array<{ currency: string; debits_minor: string; credits_minor: string }>;
  findings: string[];
}

export async function verifyLedger(db: Executor): Promise<LedgerReport> {
  const findings: string[] = [];
  const unbalanced = await sql<{ transaction_id: string; currency: string; net: bigint }>`
    SELECT transaction_id, currency, sum(debit_minor) - sum(credit_minor) AS net
      FROM ledger_entries GROUP BY merchant_id, transaction_id, currency
    HAVING sum(debit_minor) <> sum(credit_minor)`.execute(db);
  for (const r of unbalanced.rows)
    findings.push(`transaction ${r.transaction_id} is unbalanced in ${r.currency} by ${r.net}`);

  const accounts = await sql<{
    key: string;
    stored_d: bigint | null;
    stored_c: bigint | null;
    d: bigint | null;
    c: bigint | null;
  }>`
    WITH computed AS (
      SELECT merchant_id, environment, currency, role, sum(debit_minor) AS d, sum(credit_minor) AS c
        FROM ledger_entries GROUP BY merchant_id, environment, currency, role
    )
    SELECT concat_ws('/', coalesce(a.merchant_id, x.merchant_id), coalesce(a.environment, x.environment),
                     coalesce(a.currency, x.currency), coalesce(a.role, x.role)) AS key,
           a.debits_minor AS stored_d, a.credits_minor AS stored_c, x.d, x.c
      FROM (SELECT merchant_id, environment, currency, role,
                   sum(debits_minor) AS debits_minor, sum(credits_minor) AS credits_minor
              FROM ledger_accounts GROUP BY merchant_id, environment, currency, role) a
      FULL JOIN computed x USING (merchant_id, environment, currency, role)
     WHERE a.debits_minor IS DISTINCT FROM coalesce(x.d, 0) OR a.credits_minor IS DISTINCT FROM coalesce(x.c, 0)`.execute(
    db,
  );
  for (const r of accounts.rows) {
    findings.push(
      `account ${r.key} stores ${r.stored_d ?? 'nothing'}/${r.stored_c ?? 'nothing'} but entries sum to ${r.d ?? 0}/${r.c ?? 0}`,
    );
  }

  const holds = await sql<{ key: string; open: bigint | null; held: bigint | null }>`
    WITH open AS (
      SELECT merchant_id, environment, currency, sum(amount_minor) AS open
        FROM ledger_holds WHERE status = 'pending' GROUP BY 1, 2, 3
    ), held AS (
      SELECT merchant_id, environment, currency, sum(credits_minor - debits_minor) AS held
        FROM ledger_accounts WHERE role = 'authorizations_held' GROUP BY 1, 2, 3
    )
    SELECT concat_ws('/', merchant_id, environment, currency) AS key, open.open, held.held
      FROM open FULL JOIN held USING (merchant_id, environment, currency)
     WHERE coalesce(open.open, 0) <> coalesce(held.held, 0)`.execute(db);
  for (const r of holds.rows)
    findings.push(`holds ${r.key}: open holds ${r.open ?? 0} but held balance ${r.held ?? 0}`);

  const payable = await sql<{ key: string; expected: bigint | null; booked: bigint | null }>`
    WITH expected AS (
      SELECT merchant_id, environment, currency,
             sum(CASE WHEN kind = 'refund' THEN (CASE WHEN status = 'succeeded' THEN -amount_minor ELSE 0 END)
                      ELSE captured_minor END) AS expected
        FROM payments GROUP BY 1, 2, 3
    ), booked AS (
      SELECT merchant_id, environment, currency, sum(credits_minor - debits_minor) AS booked
        FROM ledger_accounts WHERE role = 'merchant_payable' GROUP BY 1, 2, 3
    )
    SELECT concat_ws('/', merchant_id, environment, currency) AS key, expected.expected, booked.booked
      FROM expected FULL JOIN booked USING (merchant_id, environment, currency)
     WHERE coalesce(expected.expected, 0) <> coalesce(booked.booked, 0)`.execute(db);
  for (const r of payable.rows) {
    findings.push(
      `merchant payable ${r.key}: payments say ${r.expected ?? 0} but the ledger books ${r.booked ?? 0}`,
    );
  }

  const counts = await sql<{ transactions: bigint; entries: bigint; accounts: bigint }>`
    SELECT (SELECT count(*) FROM ledger_transactions) AS transactions,
           (SELECT count(*) FROM ledger_entries) AS entries,
           (SELECT count(*) FROM (SELECT DISTINCT merchant_id, environment, currency, role FROM ledger_accounts) d) AS accounts`.execute(
    db,
  );
  const totals = await sql<{ currency: string; debits_minor: bigint; credits_minor: bigint }>`
    SELECT currency, sum(debit_minor) AS debits_minor, sum(credit_minor) AS credits_minor
      FROM ledger_entries GROUP BY currency ORDER BY currency`.execute(db);
  const count = counts.rows[0];
  return {
    transactions: Number(count?.transactions ?? 0n),
    entries: Number(count?.entries ?? 0n),
    accounts: Number(count?.accounts ?? 0n),
    totals: totals.rows.map((t) => ({
      currency: t.currency,
      debits_minor: t.debits_minor.toString(),
      credits_minor: t.credits_minor.toString(),
    })),
    findings,
  };
}
