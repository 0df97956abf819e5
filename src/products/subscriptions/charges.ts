import { sql } from 'kysely';
import { transaction, type Executor } from '../../core/db/db.js';
import { money, type Currency } from '../../core/money/money.js';
import { createPayment } from '../../core/payments/service.js';
import { paymentTimeline } from '../../core/payments/repo.js';
import {
  amountField,
  amountOut,
  criteria,
  customReferences,
  newSpId,
  SpError,
  str,
  timestamp,
  type Json,
} from './dialect.js';
import { spEvent } from './events.js';
import {
  applyOutcome,
  callAcquirer,
  productConnectorId,
  type BillingDeps,
  type CycleRow,
  type TxRow,
} from './billing.js';
import { getSeries, getSubscription, nowFor, one, type Scope, type SeriesRow } from './objects.js';

interface CardRef {
  card_id: string;
  connector_token: string;
  ntid: string | null;
}

async function activeCard(
  db: Executor,
  scope: Scope,
  agreementId: string | null,
): Promise<CardRef | undefined> {
  if (!agreementId) return undefined;
  const { rows } = await sql<CardRef>`
    SELECT c.id AS card_id, c.connector_token, c.network_transaction_id AS ntid FROM sp_billing_agreements a
      JOIN vault_cards c ON c.merchant_id = a.merchant_id AND c.environment = a.environment AND c.id = a.card_id
     WHERE a.merchant_id = ${scope.merchantId} AND a.environment = ${scope.environment} AND a.id = ${agreementId}
       AND a.status = 'active'`.execute(db);
  const row = rows[0];
  return row?.ntid ? row : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Manual retries

export interface RetryRow {
  id: string;
  billing_cycle_id: string;
  transaction_id: string;
  reason: string;
  created_at: Date;
  updated_at: Date;
  payment_status?: string;
}

export function retryView(row: RetryRow, status?: string) {
  return {
    id: row.id,
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    transactionId: row.transaction_id,
    reason: row.reason,
    extraInfo: null,
    customReferences: null,
    paymentStatus: status ?? row.payment_status ?? null,
  };
}

/**
 * `POST …/billing-cycles/{id}/manual-retries`: only a `Failed` or `Error` cycle whose amount is still in
 * the balance (no later charge collected it). The amount is taken out of the balance atomically, so a
 * retry and a scheduled charge can never both collect it; a failed retry puts it back.
 */
export async function createManualRetry(
  deps: BillingDeps,
  scope: Scope,
  subscriptionId: string,
  cycleId: string,
  body: Json,
): Promise<{ retry: RetryRow; status: string }> {
  const reason = str(body, 'reason', { required: true, max: 128 }) ?? '';
  const prepared = await transaction(deps.db, async (tx) => {
    const sub = await getSubscription(tx, scope, subscriptionId, true);
    const { rows: cycles } = await sql<CycleRow>`
      SELECT * FROM sp_billing_cycles WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}
         AND id = ${cycleId} AND subscription_id = ${sub.id} FOR UPDATE`.execute(tx);
    const cycle = cycles[0];
    if (!cycle)
      throw new SpError('NOT_FOUND', `No billing cycle ${cycleId} on ${subscriptionId}.`, 'billingCycleId');
    if (cycle.status !== 'Failed' && cycle.status !== 'Error') {
      throw new SpError(
        'INVALID_STATE',
        `A manual retry needs a billing cycle in status Failed or Error; this one is ${cycle.status}.`,
        'billingCycleId',
      );
    }
    if (cycle.collected_by) {
      throw new SpError(
        'INVALID_STATE',
        `This cycle's amount was already collected by ${cycle.collected_by}.`,
        'billingCycleId',
      );
    }
    const card = await activeCard(tx, scope, sub.billing_agreement_id);
    if (!card)
      throw new SpError('INVALID_STATE', 'The subscription has no stored payment option.', 'subscriptionId');
    const amount = BigInt(cycle.amount_minor);
    const taken = await sql`
      UPDATE sp_subscriptions SET balance_minor = balance_minor - ${String(amount)}::bigint, updated_at = now()
       WHERE merchant_id = ${scope.merchantId} AND id = ${sub.id} AND balance_minor >= ${String(amount)}::bigint`.execute(
      tx,
    );
    if ((taken.numAffectedRows ?? 0n) === 0n) {
      throw new SpError(
        'INVALID_STATE',
        'This cycle’s amount is already being collected by another charge.',
        'billingCycleId',
      );
    }
    const attemptNo = cycle.attempts + 1;
    const payment = await createPayment(tx, {
      merchantId: scope.merchantId,
      environment: scope.environment,
      product: 'subscriptions',
      kind: 'sale',
      amount: money(amount, cycle.currency as Currency),
      payerRef: sub.customer_account_id,
      connectorId: productConnectorId,
      reference: `${cycle.id}#${attemptNo}`,
      description: `${sub.id} cycle ${cycle.cycle_no + 1} manual retry`,
      testClockId: sub.test_clock_id,
      metadata: { subscription_id: sub.id, billing_cycle_id: cycle.id, attempt: attemptNo },
    });
    const txId = newSpId('transaction');
    const { rows: created } = await sql<TxRow>`
      WITH c AS (
        UPDATE sp_billing_cycles SET status = 'Processing', attempts = ${attemptNo}, locked_until = now() + interval '1 day',
               billing_agreement_id = ${sub.billing_agreement_id}, updated_at = now()
         WHERE merchant_id = ${scope.merchantId} AND id = ${cycle.id}
      )
      INSERT INTO sp_transactions (merchant_id, environment, id, kind, subscription_id, billing_cycle_id, attempt_no, payment_id,
        amount_minor, currency, status, card_id, billing_agreement_id, test_clock_id)
      VALUES (${scope.merchantId}, ${scope.environment}, ${txId}, 'manual-retry', ${sub.id}, ${cycle.id}, ${attemptNo},
        ${payment.id}, ${String(amount)}, ${cycle.currency}, 'pending', ${card.card_id}, ${sub.billing_agreement_id},
        ${sub.test_clock_id})
      RETURNING *`.execute(tx);
    const { rows: retries } = await sql<RetryRow>`
      INSERT INTO sp_manual_retries (merchant_id, environment, id, billing_cycle_id, transaction_id, reason)
      VALUES (${scope.merchantId}, ${scope.environment}, ${newSpId('retry')}, ${cycle.id}, ${txId}, ${reason})
      RETURNING *`.execute(tx);
    const retry = one(retries);
    await spEvent(tx, {
      ...scope,
      eventType: 'created',
      origin: 'api',
      objectType: 'manual-retry',
      objectId: retry.id,
      data: { subscriptionId: sub.id, billingCycleId: cycle.id, ...retryView(retry, 'pending') },
      testClockId: sub.test_clock_id,
    });
    const at = await nowFor(tx, sub.test_clock_id, deps.now);
    return { t: one(created), card, retry, at };
  });
  const outcome = await callAcquirer(deps.acquirer, {
    tx: prepared.t,
    cardToken: prepared.card.connector_token,
    ntid: prepared.card.ntid ?? '',
    at: prepared.at,
    recovering: false,
  });
  const applied = await applyOutcome(deps.db, prepared.t, outcome, prepared.at);
  return { retry: prepared.retry, status: applied?.status ?? prepared.t.status };
}

export async function listRetries(db: Executor, scope: Scope, cycleId: string): Promise<RetryRow[]> {
  const { rows } = await sql<RetryRow>`
    SELECT r.*, t.status AS payment_status FROM sp_manual_retries r
      JOIN sp_transactions t ON t.merchant_id = r.merchant_id AND t.environment = r.environment AND t.id = r.transaction_id
     WHERE r.merchant_id = ${scope.merchantId} AND r.environment = ${scope.environment} AND r.billing_cycle_id = ${cycleId}
     ORDER BY r.created_at`.execute(db);
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Payment series transactions

export async function transactionView(db: Executor, t: TxRow, series: SeriesRow) {
  const timeline = await paymentTimeline(db, t.merchant_id, t.payment_id);
  return {
    id: t.id,
    createdAt: timestamp(t.created_at),
    updatedAt: timestamp(t.updated_at),
    customerAccountId: series.customer_account_id,
    storedPaymentOptionReference: t.card_id,
    billingAgreementId: t.billing_agreement_id,
    modificationId: null,
    transactionReferenceId: t.payment_id,
    reconciliationReferenceId: t.payment_id,
    paymentStatus: t.status,
    declineReason: t.decline_reason,
    payment: {
      description: t.description,
      amount: amountOut(BigInt(t.amount_minor), t.currency),
      currencyIsoCode: t.currency,
    },
    billingAddress: series.billing_address,
    shippingAddress: series.shipping_address,
    consumer: series.consumer,
    businessConsumer: series.business_consumer,
    customReferences: t.custom_references,
    criteria: t.criteria,
    transactionLogs: timeline.map((s) => ({
      id: `TransactionLog-${t.payment_id}-${s.seq}`,
      createdAt: timestamp(s.at),
      status: s.to_status,
      event: s.event,
      responseCode: s.raw_code,
    })),
  };
}

/** `POST /payment-series/{id}/transactions`: an unscheduled MIT on the stored card, answered at once. */
export async function createSeriesTransaction(
  deps: BillingDeps,
  scope: Scope,
  seriesId: string,
  body: Json,
): Promise<{ t: TxRow; series: SeriesRow }> {
  const series = await getSeries(deps.db, scope, seriesId);
  const amount = amountField(body, 'amount', series.currency as Currency, true) ?? 0n;
  const description = str(body, 'description', { required: true, max: 255 }) ?? '';
  const references = customReferences(body) ?? null;
  const extra = criteria(body) ?? null;
  if (series.deleted_at)
    throw new SpError('INVALID_STATE', `Payment series ${seriesId} is deleted.`, 'paymentSeriesId');
  const prepared = await transaction(deps.db, async (tx) => {
    const locked = await getSeries(tx, scope, seriesId, true);
    const card = await activeCard(tx, scope, locked.billing_agreement_id);
    if (!card) {
      throw new SpError(
        'INVALID_STATE',
        'No payment option is stored for this payment series yet: the customer stores one in the widget first.',
        'paymentSeriesId',
      );
    }
    const txId = newSpId('transaction');
    const payment = await createPayment(tx, {
      merchantId: scope.merchantId,
      environment: scope.environment,
      product: 'subscriptions',
      kind: 'sale',
      amount: money(amount, locked.currency as Currency),
      payerRef: locked.customer_account_id,
      connectorId: productConnectorId,
      reference: txId,
      description,
      testClockId: locked.test_clock_id,
      metadata: { payment_series_id: locked.id },
    });
    const { rows } = await sql<TxRow>`
      INSERT INTO sp_transactions (merchant_id, environment, id, kind, series_id, payment_id, amount_minor, currency, status,
        description, card_id, billing_agreement_id, custom_references, criteria, test_clock_id)
      VALUES (${scope.merchantId}, ${scope.environment}, ${txId}, 'series', ${locked.id}, ${payment.id}, ${String(amount)},
        ${locked.currency}, 'pending', ${description}, ${card.card_id}, ${locked.billing_agreement_id},
        ${references ? JSON.stringify(references) : null}::jsonb, ${extra ? JSON.stringify(extra) : null}::jsonb,
        ${locked.test_clock_id})
      RETURNING *`.execute(tx);
    const t = one(rows);
    await spEvent(tx, {
      ...scope,
      eventType: 'created',
      origin: 'api',
      objectType: 'transaction',
      objectId: t.id,
      status: 'pending',
      data: {
        paymentSeriesId: locked.id,
        amount: amountOut(amount, locked.currency),
        currencyIsoCode: locked.currency,
      },
      testClockId: locked.test_clock_id,
    });
    const at = await nowFor(tx, locked.test_clock_id, deps.now);
    return { t, card, at };
  });
  const outcome = await callAcquirer(deps.acquirer, {
    tx: prepared.t,
    cardToken: prepared.card.connector_token,
    ntid: prepared.card.ntid ?? '',
    at: prepared.at,
    recovering: false,
  });
  const applied = await applyOutcome(deps.db, prepared.t, outcome, prepared.at);
  return { t: applied ?? prepared.t, series };
}

export async function getSeriesTransaction(
  db: Executor,
  scope: Scope,
  seriesId: string,
  id: string,
): Promise<TxRow> {
  const { rows } = await sql<TxRow>`
    SELECT * FROM sp_transactions WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}
       AND series_id = ${seriesId} AND lower(id) = lower(${id})`.execute(db);
  const row = rows[0];
  if (!row) throw new SpError('NOT_FOUND', `No transaction ${id} in ${seriesId}.`, 'transactionId');
  return row;
}
