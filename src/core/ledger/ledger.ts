import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from '../db/db.js';
import type { Environment } from '../db/schema.js';
import { AppError, assert } from '../errors/errors.js';
import { newId } from '../ids/ids.js';
import type { Currency } from '../money/money.js';

/**
 * Append-only double-entry ledger (STYLE.md §6, reliability.md B2). Every money movement posts one
 * transaction whose entries balance per currency, in the same database transaction as the state change
 * that caused it. Account rows keep running totals, updated in the same statement as the entries;
 * `verifyLedger` recomputes them from the entries.
 *
 * Roles (per merchant, environment and currency):
 * - `connector_receivable` (debit-normal): owed to us by the carrier, acquirer, biller or wallet;
 * - `merchant_payable` (credit-normal): owed by us to the merchant;
 * - `authorizations_receivable` / `authorizations_held`: the two sides of open holds (reservations).
 * - `biller_payable` (credit-normal): owed by us to a biller for what it vended (bill payment);
 * - `fee_revenue` (credit-normal): fees Payloom's operator earned (bill payment);
 * - `client_share_expense` (debit-normal): the share of a purchase given to the client (bill payment).
 */
export const ledgerRoles = [
  'connector_receivable',
  'merchant_payable',
  'authorizations_receivable',
  'authorizations_held',
  'biller_payable',
  'fee_revenue',
  'client_share_expense',
] as const;
export type LedgerRole = (typeof ledgerRoles)[number];

export interface LedgerEntry {
  readonly role: LedgerRole;
  readonly currency: Currency;
  readonly side: 'debit' | 'credit';
  readonly amountMinor: bigint;
}

/** Shard rows per account (see migration 0010): concurrent postings rarely wait on one another. */
export const accountShards = 16;

/** At most this many entries in one transaction. */
export const entriesPerTransactionMax = 16;

export function debit(role: LedgerRole, currency: Currency, amountMinor: bigint): LedgerEntry {
  return { role, currency, side: 'debit', amountMinor };
}
export function credit(role: LedgerRole, currency: Currency, amountMinor: bigint): LedgerEntry {
  return { role, currency, side: 'credit', amountMinor };
}

/** Asserts Σ debits = Σ credits per currency and positive amounts: a broken invariant, never a user error. */
export function assertBalanced(entries: readonly LedgerEntry[]): void {
  assert(entries.length >= 2 && entries.length <= entriesPerTransactionMax, 'ledger transaction entry count');
  const net = new Map<string, bigint>();
  for (const entry of entries) {
    assert(entry.amountMinor > 0n, 'ledger entry amounts are positive');
    const signed = entry.side === 'debit' ? entry.amountMinor : -entry.amountMinor;
    net.set(entry.currency, (net.get(entry.currency) ?? 0n) + signed);
  }
  for (const [currency, sum] of net) assert(sum === 0n, `ledger transaction unbalanced in ${currency}`);
}

/** Posts one balanced transaction in a single statement: transaction row, entries, account totals. */
export async function postTransaction(
  tx: Executor,
  input: {
    merchantId: string;
    environment: Environment;
    paymentId: string | null;
    kind: string;
    entries: readonly LedgerEntry[];
  },
): Promise<string> {
  assertBalanced(input.entries);
  const id = newId('ledgerTransaction');
  const shard = randomInt(accountShards);
  const roles = input.entries.map((e) => e.role);
  const currencies = input.entries.map((e) => e.currency);
  const debits = input.entries.map((e) => (e.side === 'debit' ? e.amountMinor.toString() : '0'));
  const credits = input.entries.map((e) => (e.side === 'credit' ? e.amountMinor.toString() : '0'));
  await sql`
    WITH t AS (
      INSERT INTO ledger_transactions (merchant_id, environment, id, payment_id, kind)
      VALUES (${input.merchantId}, ${input.environment}, ${id}, ${input.paymentId}, ${input.kind})
    ), x AS (
      SELECT * FROM unnest(${roles}::text[], ${currencies}::text[], ${debits}::bigint[], ${credits}::bigint[])
        WITH ORDINALITY AS x(role, currency, debit_minor, credit_minor, n)
    ), e AS (
      INSERT INTO ledger_entries (merchant_id, transaction_id, entry_no, environment, currency, role, debit_minor, credit_minor)
      SELECT ${input.merchantId}, ${id}, n, ${input.environment}, currency, role, debit_minor, credit_minor FROM x
    )
    INSERT INTO ledger_accounts AS a (merchant_id, environment, currency, role, shard, debits_minor, credits_minor)
    SELECT ${input.merchantId}, ${input.environment}, currency, role, ${shard}, sum(debit_minor), sum(credit_minor)
      FROM x GROUP BY currency, role
    ON CONFLICT (merchant_id, environment, currency, role, shard) DO UPDATE
      SET debits_minor = a.debits_minor + excluded.debits_minor,
          credits_minor = a.credits_minor + excluded.credits_minor`.execute(tx);
  return id;
}

/** Places a hold for an authorization: Dr authorizations_receivable / Cr authorizations_held. */
export async function placeHold(
  tx: Executor,
  input: {
    merchantId: string;
    environment: Environment;
    paymentId: string;
    currency: Currency;
    amountMinor: bigint;
  },
): Promise<void> {
  await tx
    .insertInto('ledger_holds')
    .values({
      merchant_id: input.merchantId,
      id: newId('hold'),
      environment: input.environment,
      payment_id: input.paymentId,
      currency: input.currency,
      amount_minor: input.amountMinor,
      status: 'pending',
    })
    .execute();
  await postTransaction(tx, {
    merchantId: input.merchantId,
    environment: input.environment,
    paymentId: input.paymentId,
    kind: 'hold',
    entries: [
      debit('authorizations_receivable', input.currency, input.amountMinor),
      credit('authorizations_held', input.currency, input.amountMinor),
    ],
  });
}

export type HoldResolution = 'posted' | 'voided' | 'expired';

/**
 * Resolves a hold at most once: post ≤ held (the remainder is released), void, or expire. The guarded
 * UPDATE decides races; the loser gets `hold_already_resolved` (or `exceeds_held_amount`).
 */
export async function resolveHold(
  tx: Executor,
  input: { merchantId: string; paymentId: string; resolution: HoldResolution; postMinor?: bigint },
): Promise<void> {
  const postMinor = input.resolution === 'posted' ? (input.postMinor ?? 0n) : 0n;
  const hold = await tx
    .updateTable('ledger_holds')
    .set({ status: input.resolution, posted_minor: postMinor, resolved_at: sql<Date>`now()` })
    .where('merchant_id', '=', input.merchantId)
    .where('payment_id', '=', input.paymentId)
    .where('status', '=', 'pending')
    .where('amount_minor', '>=', postMinor)
    .returningAll()
    .executeTakeFirst();
  if (!hold) {
    const current = await tx
      .selectFrom('ledger_holds')
      .select(['status', 'amount_minor'])
      .where('merchant_id', '=', input.merchantId)
      .where('payment_id', '=', input.paymentId)
      .executeTakeFirst();
    if (current && current.status === 'pending') {
      throw new AppError('exceeds_held_amount', `At most ${current.amount_minor} can be captured.`, {
        field: 'amount',
      });
    }
    throw new AppError('hold_already_resolved', `The hold is already ${current?.status ?? 'gone'}.`);
  }
  const currency = hold.currency as Currency;
  const entries: LedgerEntry[] = [
    debit('authorizations_held', currency, hold.amount_minor),
    credit('authorizations_receivable', currency, hold.amount_minor),
  ];
  if (postMinor > 0n) {
    entries.push(
      debit('connector_receivable', currency, postMinor),
      credit('merchant_payable', currency, postMinor),
    );
  }
  await postTransaction(tx, {
    merchantId: input.merchantId,
    environment: hold.environment,
    paymentId: input.paymentId,
    kind: `hold_${input.resolution}`,
    entries,
  });
}

export interface BalanceView {
  currency: string;
  /** Owed to the merchant: merchant_payable, credit-normal. */
  available_minor: string;
  /** Open holds (reservations not yet captured, voided or expired). */
  held_minor: string;
  /** Owed to us by connectors. */
  receivable_minor: string;
  accounts: Array<{ role: string; debits_minor: string; credits_minor: string }>;
}

export async function balances(
  db: Executor,
  merchantId: string,
  environment: Environment,
): Promise<BalanceView[]> {
  const { rows } = await sql<{ currency: string; role: string; debits_minor: bigint; credits_minor: bigint }>`
    SELECT currency, role, sum(debits_minor)::bigint AS debits_minor, sum(credits_minor)::bigint AS credits_minor
      FROM ledger_accounts
     WHERE merchant_id = ${merchantId} AND environment = ${environment}
     GROUP BY currency, role
     ORDER BY currency, role`.execute(db);
  const byCurrency = new Map<string, BalanceView>();
  for (const row of rows) {
    const view = byCurrency.get(row.currency) ?? {
      currency: row.currency,
      available_minor: '0',
      held_minor: '0',
      receivable_minor: '0',
      accounts: [],
    };
    const creditNet = (row.credits_minor - row.debits_minor).toString();
    const debitNet = (row.debits_minor - row.credits_minor).toString();
    if (row.role === 'merchant_payable') view.available_minor = creditNet;
    if (row.role === 'authorizations_held') view.held_minor = creditNet;
    if (row.role === 'connector_receivable') view.receivable_minor = debitNet;
    view.accounts.push({
      role: row.role,
      debits_minor: row.debits_minor.toString(),
      credits_minor: row.credits_minor.toString(),
    });
    byCurrency.set(row.currency, view);
  }
  return [...byCurrency.values()];
}

export async function listLedgerTransactions(
  db: Executor,
  filter: {
    merchantId: string;
    environment: Environment;
    limit: number;
    startingAfter?: string;
    paymentId?: string;
  },
) {
  let query = db
    .selectFrom('ledger_transactions')
    .selectAll()
    .where('merchant_id', '=', filter.merchantId)
    .where('environment', '=', filter.environment)
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  if (filter.paymentId) query = query.where('payment_id', '=', filter.paymentId);
  const transactions = await query.execute();
  const ids = transactions.map((t) => t.id);
  const entries =
    ids.length === 0
      ? []
      : await db
          .selectFrom('ledger_entries')
          .selectAll()
          .where('merchant_id', '=', filter.merchantId)
          .where('transaction_id', 'in', ids)
          .orderBy('entry_no')
          .execute();
  return transactions.map((t) => ({
    id: t.id,
    payment_id: t.payment_id,
    kind: t.kind,
    created_at: t.created_at.toISOString(),
    entries: entries
      .filter((e) => e.transaction_id === t.id)
      .map((e) => ({
        role: e.role,
        currency: e.currency,
        debit_minor: e.debit_minor.toString(),
        credit_minor: e.credit_minor.toString(),
      })),
  }));
}
