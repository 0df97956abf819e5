import { sql } from 'kysely';
import { DateTime } from 'luxon';
import type { CardAcquirerConnector, CardPayment } from '../../connectors/contracts/card-acquirer.js';
import type { ConnectorOutcome, DeclineReason } from '../../connectors/contracts/outcome.js';
import { transaction, type Db, type Executor, type Tx } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { enqueue } from '../../core/jobs/jobs.js';
import { clockNow } from '../../core/clocks/test-clocks.js';
import { money, type Currency } from '../../core/money/money.js';
import { createPayment, recordOutcomeIn, type ConnectorAnswer } from '../../core/payments/service.js';
import { amountOut, isoDate, newSpId, timestamp } from './dialect.js';
import { spEvent, type SpOrigin } from './events.js';
import {
  brandName,
  one,
  shortCardNumber,
  subscriptionView,
  termsOf,
  type Scope,
  type SubscriptionRow,
} from './objects.js';
import { cyclePlan, firstCycleAtOrAfter, pauseCredit } from './schedule.js';
import { chargeBatch } from './batch.js';

/**
 * Billing cycles and merchant-initiated charges (README.md "Billing", docs/adr/0012).
 *
 * - One cycle is open per subscription: the next is created when the previous reaches a final status.
 * - Workers claim due cycles in batches (`FOR UPDATE SKIP LOCKED`, one statement) and charge each: a
 *   transaction row per (cycle, attempt) under a unique key and a core payment (reference
 *   `<cycle id>#<attempt>`, unique too) commit BEFORE the acquirer is called; the outcome, its ledger
 *   posting and the cycle's next status commit together afterwards.
 * - An attempt whose worker died is never charged again under a new reference: the cycle's lease
 *   expires, the next claimer finds the attempt's transaction and asks the acquirer for its status
 *   (re-sending the same reference only when the acquirer has no record of it).
 */
export const chargeQueueClock = 'subscriptions.bill-clock';
export const billQueue = 'subscriptions.bill';
export const reconcileQueue = 'subscriptions.reconcile';
export const claimBatchSize = 200;
export const connectorTimeoutMs = 30_000;
/** A transaction left `unknown` is asked about again after this long (on its clock). */
export const reconcileAfterSeconds = 60;
export const productConnectorId = 'card-acquirer-simulator';

export interface BillingDeps {
  readonly db: Db;
  readonly acquirer: CardAcquirerConnector;
  /** Real time (ManualClock in tests); objects on test clocks use their clock's time. */
  readonly now: () => Date;
  /** Seconds a claimed cycle stays leased to its worker. */
  readonly leaseSeconds: number;
}

export interface CycleRow {
  merchant_id: string;
  environment: Environment;
  id: string;
  subscription_id: string;
  cycle_no: number;
  billing_date: Date | string;
  period_start: Date | string;
  period_end: Date | string;
  charge_at: Date;
  amount_minor: string;
  credit_minor: string;
  balance_minor: string;
  currency: string;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  billing_agreement_id: string | null;
  short_card_number: string | null;
  billing_agreement_name: string | null;
  paid_at: Date | null;
  collected_by: string | null;
  test_clock_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface TxRow {
  merchant_id: string;
  environment: Environment;
  id: string;
  kind: 'scheduled' | 'retry' | 'manual-retry' | 'series';
  subscription_id: string | null;
  billing_cycle_id: string | null;
  attempt_no: number | null;
  series_id: string | null;
  payment_id: string;
  amount_minor: string;
  balance_part_minor: string;
  currency: string;
  status: 'pending' | 'captured' | 'declined' | 'error' | 'unknown';
  decline_reason: string | null;
  raw_code: string | null;
  description: string | null;
  card_id: string | null;
  billing_agreement_id: string | null;
  custom_references: Record<string, unknown> | null;
  criteria: Record<string, unknown> | null;
  test_clock_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export function cycleView(row: CycleRow, transactions: TxRow[] = []) {
  return {
    id: row.id,
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    paidAt: timestamp(row.paid_at),
    billingDate: isoDate(row.billing_date),
    billingPeriodStart: isoDate(row.period_start),
    billingPeriodEnd: isoDate(row.period_end),
    status: row.status,
    amount: amountOut(BigInt(row.amount_minor), row.currency),
    currency: row.currency,
    credit: amountOut(BigInt(row.credit_minor), row.currency),
    shortCardNumber: row.short_card_number,
    billingAgreementName: row.billing_agreement_name,
    billingAgreementId: row.billing_agreement_id,
    attempts: row.attempts,
    nextAttemptAt:
      row.status === 'Retrying' || row.status === 'Scheduled' ? timestamp(row.next_attempt_at) : null,
    balanceCollectedBy: row.collected_by,
    transactions: transactions.map((t) => ({
      id: t.id,
      createdAt: timestamp(t.created_at),
      updatedAt: timestamp(t.updated_at),
      type: t.kind,
      attempt: t.attempt_no,
      amount: amountOut(BigInt(t.amount_minor), t.currency),
      balanceCollected: amountOut(BigInt(t.balance_part_minor), t.currency),
      paymentStatus: t.status,
      declineReason: t.decline_reason,
      responseCode: t.raw_code,
      transactionReferenceId: t.payment_id,
    })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Scheduling

interface SettingsRow {
  retry_delays_days: number[];
}

export async function retryDelays(db: Executor, scope: Scope): Promise<number[]> {
  const { rows } = await sql<SettingsRow>`
    SELECT retry_delays_days FROM sp_settings WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}`.execute(
    db,
  );
  return rows[0]?.retry_delays_days ?? [1, 3, 7];
}

async function planTerms(db: Executor, sub: SubscriptionRow) {
  const { rows } = await sql<{ trial_period: number | null; trial_unit: 'day' | 'month' | 'year' | null }>`
    SELECT p.trial_period, p.trial_unit FROM sp_subscriptions s JOIN sp_plans p
        ON p.merchant_id = s.merchant_id AND p.environment = s.environment AND p.id = s.plan_id
     WHERE s.merchant_id = ${sub.merchant_id} AND s.id = ${sub.id}`.execute(db);
  // The trial the subscription got when it was created (plan changes reach only later subscriptions).
  const row = rows[0];
  const hadTrial = sub.trial_end_date !== null;
  return termsOf({
    ...sub,
    trial_period: hadTrial && row ? row.trial_period : null,
    trial_unit: hadTrial && row ? row.trial_unit : null,
  });
}

/** Terms with the trial recorded on the subscription (its own trial end, whatever the plan says now). */
export async function subscriptionTerms(db: Executor, sub: SubscriptionRow) {
  const terms = await planTerms(db, sub);
  if (sub.trial_end_date === null) return { ...terms, trial: null };
  if (terms.trial) return terms;
  // The plan's trial was removed after this subscription was created: rebuild it from the dates.
  const start = DateTime.fromISO(isoDate(sub.trial_start_date) ?? '');
  const end = DateTime.fromISO(isoDate(sub.trial_end_date) ?? '');
  return {
    ...terms,
    trial: { period: Math.max(1, Math.round(end.diff(start, 'days').days)), unit: 'day' as const },
  };
}

async function wakeClock(
  tx: Executor,
  testClockId: string | null,
  at: Date,
  merchantId: string,
): Promise<void> {
  if (!testClockId) return;
  // A time already past on the clock runs at the clock's now (a card stored late is charged now).
  const now = await clockNow(tx, testClockId);
  const runAt = at.getTime() < now.getTime() ? now : at;
  await enqueue(tx, {
    queue: chargeQueueClock,
    payload: { testClockId },
    merchantId,
    testClockId,
    runAt,
    singletonKey: `${testClockId}:${runAt.toISOString()}`,
  });
}

/**
 * Creates the subscription's cycle `k` (default: the next one), or finishes the subscription when the
 * term is over. Returns the cycle, if one was created.
 */
export async function scheduleNextCycle(
  tx: Executor,
  sub: SubscriptionRow,
  options: { k?: number; credit?: bigint; origin: SpOrigin } = { origin: 'automated' },
): Promise<CycleRow | undefined> {
  const scope = { merchantId: sub.merchant_id, environment: sub.environment };
  const { rows: failed } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM sp_billing_cycles
     WHERE merchant_id = ${sub.merchant_id} AND subscription_id = ${sub.id} AND status IN ('Failed', 'Error')
       AND collected_by IS NULL`.execute(tx);
  const unpaidFailed = Number(failed[0]?.n ?? 0);
  const remaining = sub.billing_cycles_remaining;
  if (remaining !== -1 && remaining <= unpaidFailed) {
    await finish(tx, sub);
    return undefined;
  }
  const terms = await subscriptionTerms(tx, sub);
  const k = options.k ?? sub.cycles_created;
  const plan = cyclePlan(terms, k);
  const credit = options.credit ?? BigInt(sub.pause_credit_minor);
  const base = BigInt(sub.amount_minor) - credit;
  const amount = base < 0n ? 0n : base;
  const { rows } = await sql<CycleRow>`
    WITH cycle AS (
      INSERT INTO sp_billing_cycles (merchant_id, environment, id, subscription_id, cycle_no, billing_date, period_start,
        period_end, charge_at, amount_minor, credit_minor, currency, status, next_attempt_at, test_clock_id)
      VALUES (${sub.merchant_id}, ${sub.environment}, ${newSpId('billingCycle')}, ${sub.id}, ${k}, ${plan.billingDate},
        ${plan.periodStart}, ${plan.periodEnd}, ${plan.chargeAt.toISOString()}::timestamptz, ${String(amount)},
        ${String(credit)}, ${sub.currency}, 'Scheduled', ${plan.chargeAt.toISOString()}::timestamptz, ${sub.test_clock_id})
      RETURNING *
    ), sub AS (
      UPDATE sp_subscriptions SET cycles_created = ${k + 1}, next_billing_date = ${plan.billingDate}, pause_credit_minor = 0,
             updated_at = now()
       WHERE merchant_id = ${sub.merchant_id} AND environment = ${sub.environment} AND id = ${sub.id}
    )
    SELECT * FROM cycle`.execute(tx);
  const cycle = one(rows);
  await spEvent(tx, {
    ...scope,
    eventType: 'billing.scheduled',
    origin: options.origin,
    objectType: 'billing-cycle',
    objectId: cycle.id,
    status: cycle.status,
    data: { subscriptionId: sub.id, ...cycleView(cycle) },
    testClockId: sub.test_clock_id,
  });
  await expiryWarning(tx, sub, plan.chargeAt);
  await wakeClock(tx, sub.test_clock_id, plan.chargeAt, sub.merchant_id);
  return cycle;
}

/** `billing.expires` when the stored card expires before the next charge. */
async function expiryWarning(tx: Executor, sub: SubscriptionRow, chargeAt: Date): Promise<void> {
  const { rows } = await sql<{ exp_month: number; exp_year: number; card_id: string }>`
    SELECT c.exp_month, c.exp_year, c.id AS card_id FROM sp_billing_agreements a
      JOIN vault_cards c ON c.merchant_id = a.merchant_id AND c.environment = a.environment AND c.id = a.card_id
     WHERE a.merchant_id = ${sub.merchant_id} AND a.environment = ${sub.environment} AND a.id = ${sub.billing_agreement_id}
       AND a.status = 'active'`.execute(tx);
  const card = rows[0];
  if (!card) return;
  // A card is valid to the end of its expiry month.
  const validUntil = Date.UTC(card.exp_year, card.exp_month, 1);
  if (validUntil > chargeAt.getTime()) return;
  await spEvent(tx, {
    merchantId: sub.merchant_id,
    environment: sub.environment,
    eventType: 'billing.expires',
    origin: 'automated',
    objectType: 'subscription',
    objectId: sub.id,
    data: {
      billingAgreementId: sub.billing_agreement_id,
      storedPaymentOptionReference: card.card_id,
      expiryMonth: card.exp_month,
      expiryYear: card.exp_year,
      nextBillingDate: chargeAt.toISOString().slice(0, 10),
    },
    testClockId: sub.test_clock_id,
  });
}

async function finish(tx: Executor, sub: SubscriptionRow): Promise<void> {
  const { rows } = await sql<SubscriptionRow>`
    UPDATE sp_subscriptions SET status = 'finished', next_billing_date = NULL, updated_at = now()
     WHERE merchant_id = ${sub.merchant_id} AND environment = ${sub.environment} AND id = ${sub.id} AND status = 'active'
    RETURNING *`.execute(tx);
  const row = rows[0];
  if (!row) return;
  await spEvent(tx, {
    merchantId: sub.merchant_id,
    environment: sub.environment,
    eventType: 'status.updated',
    origin: 'automated',
    objectType: 'subscription',
    objectId: sub.id,
    status: 'finished',
    data: subscriptionView(row),
    testClockId: sub.test_clock_id,
  });
}

/** Pause: the waiting cycle is removed (never attempted), a cycle between retries ends Failed. */
export async function onPause(tx: Executor, sub: SubscriptionRow, now: Date): Promise<bigint> {
  const { rows: removed } = await sql<{ cycle_no: number }>`
    DELETE FROM sp_billing_cycles
     WHERE merchant_id = ${sub.merchant_id} AND subscription_id = ${sub.id} AND status = 'Scheduled' AND attempts = 0
    RETURNING cycle_no`.execute(tx);
  await closeRetrying(tx, sub, 'Failed');
  const firstRemoved = removed[0];
  if (firstRemoved) {
    await sql`UPDATE sp_subscriptions SET cycles_created = ${firstRemoved.cycle_no}
               WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id}`.execute(tx);
  }
  const terms = await subscriptionTerms(tx, sub);
  return pauseCredit(terms, now, BigInt(sub.amount_minor));
}

/** A cycle waiting for a retry ends now (pause or cancel); its amount joins the balance when it fails. */
async function closeRetrying(tx: Executor, sub: SubscriptionRow, to: 'Failed' | 'Canceled'): Promise<void> {
  const { rows } = await sql<{ amount_minor: string }>`
    UPDATE sp_billing_cycles SET status = ${to}, next_attempt_at = NULL, updated_at = now()
     WHERE merchant_id = ${sub.merchant_id} AND subscription_id = ${sub.id} AND status = 'Retrying'
    RETURNING amount_minor`.execute(tx);
  if (to !== 'Failed') return;
  const total = rows.reduce((sum, r) => sum + BigInt(r.amount_minor), 0n);
  if (total > 0n) {
    await sql`UPDATE sp_subscriptions SET balance_minor = balance_minor + ${String(total)}::bigint
               WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id}`.execute(tx);
  }
}

/**
 * Resume: the next cycle is the first on the original schedule at or after now. When a charge was
 * skipped while paused, that cycle carries the pause credit; otherwise nothing is credited.
 */
export async function onResume(tx: Executor, sub: SubscriptionRow, now: Date): Promise<void> {
  if (sub.status !== 'active') return;
  const { rows: open } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM sp_billing_cycles
     WHERE merchant_id = ${sub.merchant_id} AND subscription_id = ${sub.id}
       AND status IN ('Scheduled', 'Processing', 'Retrying')`.execute(tx);
  if (Number(open[0]?.n ?? 0) > 0) return;
  const terms = await subscriptionTerms(tx, sub);
  const k = firstCycleAtOrAfter(terms, now, sub.cycles_created);
  const skipped = k > sub.cycles_created;
  await scheduleNextCycle(tx, sub, {
    k,
    credit: skipped ? BigInt(sub.pause_credit_minor) : 0n,
    origin: 'api',
  });
}

export async function onCancel(tx: Executor, sub: SubscriptionRow): Promise<void> {
  await sql`DELETE FROM sp_billing_cycles
             WHERE merchant_id = ${sub.merchant_id} AND subscription_id = ${sub.id} AND status = 'Scheduled' AND attempts = 0`.execute(
    tx,
  );
  await closeRetrying(tx, sub, 'Canceled');
  await sql`UPDATE sp_billing_agreements SET status = 'canceled', updated_at = now()
             WHERE merchant_id = ${sub.merchant_id} AND object_id = ${sub.id} AND status IN ('pending', 'active')`.execute(
    tx,
  );
}

// ---------------------------------------------------------------------------------------------------
// Charging

interface ClaimedCycle {
  merchant_id: string;
  environment: Environment;
  id: string;
  subscription_id: string;
  test_clock_id: string | null;
  attempts: number;
}

/**
 * Claims up to `limit` due cycles in one statement: waiting cycles whose time has come (on the given
 * test clock, or real-time ones), and cycles whose worker's lease ran out.
 */
export async function claimDueCycles(
  db: Executor,
  input: { testClockId: string | null; now: Date; limit: number; leaseSeconds: number },
): Promise<ClaimedCycle[]> {
  const clock =
    input.testClockId === null ? sql`test_clock_id IS NULL` : sql`test_clock_id = ${input.testClockId}`;
  const { rows } = await sql<ClaimedCycle>`
    WITH due AS (
      SELECT merchant_id, environment, id FROM sp_billing_cycles
       WHERE status IN ('Scheduled', 'Retrying') AND ${clock}
         AND next_attempt_at <= ${input.now.toISOString()}::timestamptz
       ORDER BY next_attempt_at LIMIT ${input.limit} FOR UPDATE SKIP LOCKED
    ), stale AS (
      SELECT merchant_id, environment, id FROM sp_billing_cycles
       WHERE status = 'Processing' AND ${clock} AND locked_until < now()
       LIMIT ${input.limit} FOR UPDATE SKIP LOCKED
    )
    UPDATE sp_billing_cycles c SET status = 'Processing',
           locked_until = now() + make_interval(secs => ${input.leaseSeconds}), updated_at = now()
      FROM (SELECT * FROM due UNION ALL SELECT * FROM stale) x
     WHERE c.merchant_id = x.merchant_id AND c.environment = x.environment AND c.id = x.id
    RETURNING c.merchant_id, c.environment, c.id, c.subscription_id, c.test_clock_id, c.attempts`.execute(db);
  return rows;
}

interface Prepared {
  tx: TxRow;
  cardToken: string;
  ntid: string;
  at: Date;
  /** An attempt found in flight (its worker died): ask the acquirer before anything else. */
  recovering: boolean;
}

/** Prepares one attempt of a claimed cycle (or finds the attempt in flight), in one transaction. */
async function prepareAttempt(
  deps: BillingDeps,
  claimed: ClaimedCycle,
  at: Date,
): Promise<Prepared | undefined> {
  return transaction(deps.db, async (tx) => {
    const { rows: cycles } = await sql<CycleRow>`
      SELECT * FROM sp_billing_cycles
       WHERE merchant_id = ${claimed.merchant_id} AND environment = ${claimed.environment} AND id = ${claimed.id}
         AND status = 'Processing' FOR UPDATE`.execute(tx);
    const cycle = cycles[0];
    if (!cycle) return undefined;
    const { rows: inFlight } = await sql<TxRow>`
      SELECT * FROM sp_transactions
       WHERE billing_cycle_id = ${cycle.id} AND attempt_no = ${cycle.attempts} AND status IN ('pending', 'unknown')`.execute(
      tx,
    );
    const previous = inFlight[0];
    if (previous) {
      const card = await cardFor(tx, previous);
      return card ? { tx: previous, ...card, at, recovering: true } : undefined;
    }
    const { rows: subs } = await sql<SubscriptionRow>`
      SELECT * FROM sp_subscriptions WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.subscription_id} FOR UPDATE`.execute(
      tx,
    );
    const sub = one(subs);
    if (sub.status !== 'active') {
      // Paused or canceled after the claim: nothing is charged. A cycle that was already declined
      // while the subscription is paused ends Failed and its amount joins the balance (as on pause).
      const failed = sub.status === 'paused' && cycle.attempts > 0;
      await sql`UPDATE sp_billing_cycles SET status = ${failed ? 'Failed' : 'Canceled'}, locked_until = NULL,
                 next_attempt_at = NULL, updated_at = now()
                 WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id}`.execute(tx);
      if (failed) {
        await sql`UPDATE sp_subscriptions SET balance_minor = balance_minor + ${cycle.amount_minor}::bigint
                   WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id}`.execute(tx);
      }
      return undefined;
    }
    const { rows: cards } = await sql<{
      card_id: string;
      connector_token: string;
      ntid: string | null;
      brand: string;
      first6: string;
      last4: string;
    }>`
      SELECT c.id AS card_id, c.connector_token, c.network_transaction_id AS ntid, c.brand, c.first6, c.last4
        FROM sp_billing_agreements a
        JOIN vault_cards c ON c.merchant_id = a.merchant_id AND c.environment = a.environment AND c.id = a.card_id
       WHERE a.merchant_id = ${sub.merchant_id} AND a.environment = ${sub.environment} AND a.id = ${sub.billing_agreement_id}
         AND a.status = 'active'`.execute(tx);
    const card = cards[0];
    const attemptNo = cycle.attempts + 1;
    if (!card?.ntid) {
      // No usable card: the attempt could not be processed.
      await sql`UPDATE sp_billing_cycles SET attempts = ${attemptNo} WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id}`.execute(
        tx,
      );
      await closeAttempt(tx, { ...cycle, attempts: attemptNo }, sub, 'error', undefined, 0n, at);
      return undefined;
    }
    // The attempt collects the whole balance; a failure gives it back.
    const balance = BigInt(sub.balance_minor);
    const amount = BigInt(cycle.amount_minor) + balance;
    if (amount === 0n) {
      await sql`UPDATE sp_billing_cycles SET attempts = ${attemptNo} WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id}`.execute(
        tx,
      );
      await captureCycle(tx, { ...cycle, attempts: attemptNo }, sub, null, 0n, at);
      return undefined;
    }
    const payment = await createPayment(tx, {
      merchantId: sub.merchant_id,
      environment: sub.environment,
      product: 'subscriptions',
      kind: 'sale',
      amount: money(amount, sub.currency as Currency),
      payerRef: sub.customer_account_id,
      connectorId: productConnectorId,
      reference: `${cycle.id}#${attemptNo}`,
      description: `${sub.id} cycle ${cycle.cycle_no + 1}`,
      testClockId: sub.test_clock_id,
      metadata: { subscription_id: sub.id, billing_cycle_id: cycle.id, attempt: attemptNo },
    });
    const { rows: created } = await sql<TxRow>`
      WITH c AS (
        UPDATE sp_billing_cycles SET attempts = ${attemptNo}, billing_agreement_id = ${sub.billing_agreement_id},
               short_card_number = ${shortCardNumber(card.first6, card.last4)}, billing_agreement_name = ${brandName(card.brand)},
               updated_at = now()
         WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id} AND attempts = ${cycle.attempts}
      ), s AS (
        UPDATE sp_subscriptions SET balance_minor = 0 WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id}
      )
      INSERT INTO sp_transactions (merchant_id, environment, id, kind, subscription_id, billing_cycle_id, attempt_no, payment_id,
        amount_minor, balance_part_minor, currency, status, card_id, billing_agreement_id, test_clock_id)
      VALUES (${sub.merchant_id}, ${sub.environment}, ${newSpId('transaction')}, ${attemptNo === 1 ? 'scheduled' : 'retry'},
        ${sub.id}, ${cycle.id}, ${attemptNo}, ${payment.id}, ${String(amount)}, ${String(balance)}, ${sub.currency}, 'pending',
        ${card.card_id}, ${sub.billing_agreement_id}, ${sub.test_clock_id})
      RETURNING *`.execute(tx);
    return { tx: one(created), cardToken: card.connector_token, ntid: card.ntid, at, recovering: false };
  });
}

async function cardFor(db: Executor, t: TxRow): Promise<{ cardToken: string; ntid: string } | undefined> {
  const { rows } = await sql<{ connector_token: string; ntid: string | null }>`
    SELECT connector_token, network_transaction_id AS ntid FROM vault_cards
     WHERE merchant_id = ${t.merchant_id} AND environment = ${t.environment} AND id = ${t.card_id}`.execute(
    db,
  );
  const row = rows[0];
  return row?.ntid ? { cardToken: row.connector_token, ntid: row.ntid } : undefined;
}

/** The acquirer call for a prepared attempt (outside any transaction). */
export async function callAcquirer(
  acquirer: CardAcquirerConnector,
  prepared: { tx: TxRow; cardToken: string; ntid: string; at: Date; recovering: boolean },
): Promise<ConnectorOutcome<unknown>> {
  const t = prepared.tx;
  const request = {
    reference: t.payment_id,
    cardToken: prepared.cardToken,
    amount: money(BigInt(t.amount_minor), t.currency as Currency),
    previousNetworkTransactionId: prepared.ntid,
    initiatedAt: prepared.at,
    ...(t.description ? { description: t.description } : {}),
  };
  if (prepared.recovering) {
    const status = await acquirer.status({ reference: t.payment_id }, { timeoutMs: connectorTimeoutMs });
    // No record at the acquirer: nothing was taken, and the same reference may be sent again.
    if (status.status !== 'not_sent') return status;
  }
  try {
    const outcome: ConnectorOutcome<CardPayment> = await acquirer.chargeMerchantInitiated(request, {
      timeoutMs: connectorTimeoutMs,
    });
    return outcome;
  } catch {
    return { status: 'unknown', rawCode: 'EXCEPTION' };
  }
}

/** Declines that no retry can fix: the cycle fails at once. */
export const noRetryReasons: ReadonlySet<DeclineReason> = new Set([
  'account_blocked',
  'expired_card',
  'invalid_account',
]);

/** Records an attempt's outcome: payment, ledger, transaction, cycle, subscription, events: one transaction. */
export async function applyOutcome(
  db: Db,
  t: TxRow,
  outcome: ConnectorOutcome<unknown>,
  at: Date,
): Promise<TxRow | undefined> {
  return transaction(db, (tx) => applyOutcomeIn(tx, t, outcome, at));
}

async function applyOutcomeIn(
  tx: Tx,
  t: TxRow,
  outcome: ConnectorOutcome<unknown>,
  at: Date,
): Promise<TxRow | undefined> {
  const answer: ConnectorAnswer = {
    status: outcome.status,
    rawCode: outcome.rawCode,
    rawMessage: outcome.rawMessage,
    connectorRef: outcome.connectorReference,
  };
  const status: TxRow['status'] =
    outcome.status === 'succeeded'
      ? 'captured'
      : outcome.status === 'declined'
        ? 'declined'
        : outcome.status === 'not_sent'
          ? 'error'
          : 'unknown';
  const reason = outcome.status === 'declined' ? outcome.declineReason : null;
  const { rows } = await sql<TxRow>`
    UPDATE sp_transactions SET status = ${status}, decline_reason = ${reason}, raw_code = ${outcome.rawCode}, updated_at = now()
     WHERE merchant_id = ${t.merchant_id} AND environment = ${t.environment} AND id = ${t.id} AND status IN ('pending', 'unknown')
    RETURNING *`.execute(tx);
  const updated = rows[0];
  if (!updated) return undefined; // another worker recorded it first
  await recordOutcomeIn(tx, { merchantId: t.merchant_id, paymentId: t.payment_id, answer });
  if (status === 'unknown') {
    await wakeReconcile(tx, t, at);
    if (t.kind === 'series') await seriesTxEvent(tx, updated);
    return updated;
  }
  if (t.kind === 'series') {
    await seriesTxEvent(tx, updated);
    return updated;
  }
  const { rows: cycles } = await sql<CycleRow>`
    SELECT * FROM sp_billing_cycles WHERE merchant_id = ${t.merchant_id} AND id = ${t.billing_cycle_id} FOR UPDATE`.execute(
    tx,
  );
  const cycle = one(cycles);
  const { rows: subs } = await sql<SubscriptionRow>`
    SELECT * FROM sp_subscriptions WHERE merchant_id = ${t.merchant_id} AND id = ${t.subscription_id} FOR UPDATE`.execute(
    tx,
  );
  const sub = one(subs);
  if (status === 'captured') {
    await captureCycle(tx, cycle, sub, updated, BigInt(t.balance_part_minor), at);
  } else {
    await closeAttempt(
      tx,
      cycle,
      sub,
      status,
      reason ?? undefined,
      BigInt(t.balance_part_minor),
      at,
      t.kind === 'manual-retry',
    );
  }
  return updated;
}

async function wakeReconcile(tx: Executor, t: TxRow, at: Date): Promise<void> {
  const when = new Date(at.getTime() + reconcileAfterSeconds * 1000);
  if (t.test_clock_id) {
    await enqueue(tx, {
      queue: reconcileQueue,
      payload: { testClockId: t.test_clock_id },
      merchantId: t.merchant_id,
      testClockId: t.test_clock_id,
      runAt: when,
      singletonKey: `${t.test_clock_id}:${when.toISOString()}`,
    });
  }
  if (t.billing_cycle_id) {
    // The cycle waits for reconciliation, not for another claim.
    await sql`UPDATE sp_billing_cycles SET locked_until = now() + interval '1 day'
               WHERE merchant_id = ${t.merchant_id} AND id = ${t.billing_cycle_id} AND status = 'Processing'`.execute(
      tx,
    );
  }
}

async function cycleEvent(tx: Executor, cycle: CycleRow, sub: SubscriptionRow): Promise<void> {
  const { rows: txs } = await sql<TxRow>`
    SELECT * FROM sp_transactions WHERE billing_cycle_id = ${cycle.id} ORDER BY attempt_no`.execute(tx);
  await spEvent(tx, {
    merchantId: cycle.merchant_id,
    environment: cycle.environment,
    eventType: 'billing.updated',
    origin: 'automated',
    objectType: 'billing-cycle',
    objectId: cycle.id,
    status: cycle.status,
    data: { subscriptionId: sub.id, ...cycleView(cycle, txs) },
    testClockId: cycle.test_clock_id,
  });
}

async function captureCycle(
  tx: Executor,
  cycle: CycleRow,
  sub: SubscriptionRow,
  t: TxRow | null,
  balancePart: bigint,
  at: Date,
): Promise<void> {
  const { rows } = await sql<CycleRow>`
    UPDATE sp_billing_cycles SET status = 'Captured', paid_at = ${at.toISOString()}::timestamptz, next_attempt_at = NULL,
           locked_until = NULL, updated_at = now()
     WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id} AND status = 'Processing'
    RETURNING *`.execute(tx);
  const captured = rows[0];
  if (!captured) return;
  let collected = 0;
  if (balancePart > 0n && t) {
    const { rows: marked } = await sql<{ id: string }>`
      UPDATE sp_billing_cycles SET collected_by = ${t.id}, updated_at = now()
       WHERE merchant_id = ${cycle.merchant_id} AND subscription_id = ${sub.id} AND status IN ('Failed', 'Error')
         AND collected_by IS NULL AND id <> ${cycle.id}
      RETURNING id`.execute(tx);
    collected = marked.length;
  }
  const { rows: subs } = await sql<SubscriptionRow>`
    UPDATE sp_subscriptions SET
      billing_cycles_remaining = CASE WHEN billing_cycles_remaining = -1 THEN -1
                                      ELSE greatest(0, billing_cycles_remaining - ${1 + collected}) END,
      updated_at = now()
     WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id}
    RETURNING *`.execute(tx);
  const after = one(subs);
  await cycleEvent(tx, captured, after);
  if (t?.kind !== 'manual-retry' && after.status === 'active') await scheduleNextCycle(tx, after);
}

/**
 * A declined or unprocessable attempt: a retry when the policy has one left and the decline allows it,
 * else the cycle is final (`Failed` / `Error`) and its amount joins the balance. A manual retry that
 * fails puts the cycle back as it was.
 */
async function closeAttempt(
  tx: Executor,
  cycle: CycleRow,
  sub: SubscriptionRow,
  status: 'declined' | 'error',
  reason: DeclineReason | undefined,
  balancePart: bigint,
  at: Date,
  manual = false,
): Promise<void> {
  const scope = { merchantId: sub.merchant_id, environment: sub.environment };
  const final = status === 'declined' ? 'Failed' : 'Error';
  const amount = BigInt(cycle.amount_minor);
  if (manual) {
    const { rows } = await sql<CycleRow>`
      UPDATE sp_billing_cycles SET status = ${final}, locked_until = NULL, updated_at = now()
       WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id} AND status = 'Processing' RETURNING *`.execute(
      tx,
    );
    const back = rows[0];
    if (!back) return;
    await sql`UPDATE sp_subscriptions SET balance_minor = balance_minor + ${String(amount)}::bigint, updated_at = now()
               WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id}`.execute(tx);
    await cycleEvent(tx, back, sub);
    return;
  }
  const delays = await retryDelays(tx, scope);
  const retryable = sub.status === 'active' && (reason === undefined || !noRetryReasons.has(reason));
  if (retryable && cycle.attempts <= delays.length) {
    const delayDays = delays[cycle.attempts - 1] ?? 1;
    const next = new Date(cycle.charge_at.getTime() + delayDays * 86_400_000);
    const nextAt = next.getTime() <= at.getTime() ? at : next;
    const { rows } = await sql<CycleRow>`
      UPDATE sp_billing_cycles SET status = 'Retrying', next_attempt_at = ${nextAt.toISOString()}::timestamptz,
             locked_until = NULL, updated_at = now()
       WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id} AND status = 'Processing' RETURNING *`.execute(
      tx,
    );
    if (balancePart > 0n) {
      await sql`UPDATE sp_subscriptions SET balance_minor = balance_minor + ${String(balancePart)}::bigint
                 WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id}`.execute(tx);
    }
    const retrying = rows[0];
    if (retrying) {
      await cycleEvent(tx, retrying, sub);
      await wakeClock(tx, cycle.test_clock_id, nextAt, cycle.merchant_id);
    }
    return;
  }
  const { rows } = await sql<CycleRow>`
    UPDATE sp_billing_cycles SET status = ${final}, next_attempt_at = NULL, locked_until = NULL, updated_at = now()
     WHERE merchant_id = ${cycle.merchant_id} AND id = ${cycle.id} AND status = 'Processing' RETURNING *`.execute(
    tx,
  );
  const failed = rows[0];
  if (!failed) return;
  const { rows: subs } = await sql<SubscriptionRow>`
    UPDATE sp_subscriptions SET balance_minor = balance_minor + ${String(amount + balancePart)}::bigint, updated_at = now()
     WHERE merchant_id = ${sub.merchant_id} AND id = ${sub.id} RETURNING *`.execute(tx);
  const after = one(subs);
  await cycleEvent(tx, failed, after);
  if (after.status === 'active') await scheduleNextCycle(tx, after);
}

async function seriesTxEvent(tx: Executor, t: TxRow): Promise<void> {
  await spEvent(tx, {
    merchantId: t.merchant_id,
    environment: t.environment,
    eventType: 'updated',
    origin: 'api',
    objectType: 'transaction',
    objectId: t.id,
    status: t.status,
    data: {
      paymentSeriesId: t.series_id,
      paymentStatus: t.status,
      amount: amountOut(BigInt(t.amount_minor), t.currency),
      currencyIsoCode: t.currency,
      transactionReferenceId: t.payment_id,
    },
    testClockId: t.test_clock_id,
  });
}

/** Charges one claimed cycle end to end. */
export async function chargeClaimed(deps: BillingDeps, claimed: ClaimedCycle, at: Date): Promise<void> {
  const prepared = await prepareAttempt(deps, claimed, at);
  if (!prepared) return;
  const outcome = await callAcquirer(deps.acquirer, prepared);
  await applyOutcome(deps.db, prepared.tx, outcome, at);
}

/**
 * Charges every due cycle (of one test clock, or the real-time ones) in claimed batches, `concurrency`
 * charges at a time, until none is due. Returns how many cycles were handled.
 */
export async function runDueCycles(
  deps: BillingDeps,
  input: {
    testClockId: string | null;
    now: Date;
    concurrency?: number;
    budgetMs?: number;
    /** Called after each charge with its duration (the bench's latency figures). */
    onCharged?: (ms: number) => void;
  },
): Promise<number> {
  const startedAt = Date.now();
  let handled = 0;
  const concurrency = input.concurrency ?? 16;
  for (;;) {
    const batch = await claimDueCycles(deps.db, {
      testClockId: input.testClockId,
      now: input.now,
      limit: claimBatchSize,
      leaseSeconds: deps.leaseSeconds,
    });
    if (batch.length === 0) break;
    await chargeBatch(
      deps,
      batch,
      () => (input.testClockId ? input.now : deps.now()),
      concurrency,
      input.onCharged,
    );
    handled += batch.length;
    if (input.budgetMs !== undefined && Date.now() - startedAt > input.budgetMs) break;
  }
  return handled;
}

/**
 * Settles attempts whose answer was lost: the payment's own final status when core reconciliation got
 * there first, otherwise the acquirer's status of our reference. Never charges again.
 */
export async function reconcileAttempts(
  deps: BillingDeps,
  input: { testClockId: string | null; now: Date; limit?: number },
): Promise<number> {
  const clock =
    input.testClockId === null ? sql`t.test_clock_id IS NULL` : sql`t.test_clock_id = ${input.testClockId}`;
  const { rows } = await sql<TxRow & { payment_status: string; payment_raw_code: string | null }>`
    SELECT t.*, p.status AS payment_status, p.raw_code AS payment_raw_code FROM sp_transactions t
      JOIN payments p ON p.merchant_id = t.merchant_id AND p.id = t.payment_id
     WHERE t.status = 'unknown' AND ${clock}
     ORDER BY t.updated_at LIMIT ${input.limit ?? 500}`.execute(deps.db);
  let settled = 0;
  for (const row of rows) {
    let outcome: ConnectorOutcome<unknown>;
    if (row.payment_status === 'succeeded')
      outcome = { status: 'succeeded', data: null, rawCode: row.payment_raw_code ?? '00' };
    else if (row.payment_status === 'failed')
      outcome = { status: 'declined', declineReason: 'do_not_honor', rawCode: row.payment_raw_code ?? '05' };
    else {
      outcome = await deps.acquirer.status({ reference: row.payment_id }, { timeoutMs: connectorTimeoutMs });
      if (outcome.status === 'pending' || outcome.status === 'unknown') continue;
    }
    await applyOutcome(deps.db, row, outcome, input.now);
    settled++;
  }
  return settled;
}
