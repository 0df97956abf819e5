import { sql } from 'kysely';
import { transaction, type Db, type Executor } from '../db/db.js';
import type { Environment, PaymentKind, PaymentStatus, Product } from '../db/schema.js';
import { AppError } from '../errors/errors.js';
import { recordEvent } from '../events/events.js';
import { enqueue } from '../jobs/jobs.js';
import { credit, debit, placeHold, postTransaction, resolveHold } from '../ledger/ledger.js';
import type { Currency, Money } from '../money/money.js';
import { transition, type PaymentEvent } from './machine.js';
import { insertPayment, insertTransition, lockPayment, paymentNowSql, type PaymentRow } from './repo.js';

/**
 * Payments: one record per money-movement attempt, for every product (DESIGN.md §2). The flow is
 * STYLE.md §4: `createPayment` persists the intent and commits; the product calls its connector outside
 * any transaction, passing the payment id as the connector reference; `recordOutcome` records the answer,
 * its ledger posting and its event in one transaction. Capture, void and expiry race safely: a guarded
 * UPDATE decides, exactly one wins.
 */

/** Reservations expire one day after authorization unless the product says otherwise (reliability.md B3). */
export const authorizationTtlSecondsDefault = 86_400;
export const expireQueue = 'payments.expire';

export interface ConnectorAnswer {
  status: 'succeeded' | 'declined' | 'pending' | 'unknown' | 'not_sent';
  connectorRef?: string | undefined;
  rawCode: string;
  rawMessage?: string | undefined;
}

export interface CreatePaymentInput {
  merchantId: string;
  environment: Environment;
  product: Product;
  kind: Exclude<PaymentKind, 'refund'>;
  amount: Money;
  payerRef: string;
  connectorId: string;
  reference?: string;
  description?: string;
  testClockId?: string | null;
  metadata?: Record<string, unknown>;
}

export async function createPayment(tx: Executor, input: CreatePaymentInput): Promise<PaymentRow> {
  const row = await insertPayment(tx, {
    merchantId: input.merchantId,
    environment: input.environment,
    product: input.product,
    kind: input.kind,
    amountMinor: input.amount.amountMinor,
    currency: input.amount.currency,
    payerRef: input.payerRef,
    connectorId: input.connectorId,
    reference: input.reference ?? null,
    description: input.description ?? null,
    testClockId: input.testClockId ?? null,
    ...(input.metadata ? { metadata: input.metadata } : {}),
  });
  await emit(tx, row);
  return row;
}

/**
 * Records a connector's answer. Idempotent: the same answer twice leaves the payment as it is. A
 * transition the machine does not allow (a late "succeeded" after "failed") is `invalid_state_transition`.
 */
export async function recordOutcome(
  db: Db,
  input: { merchantId: string; paymentId: string; answer: ConnectorAnswer; authorizationTtlSeconds?: number },
): Promise<PaymentRow> {
  return transaction(db, (tx) => recordOutcomeIn(tx, input));
}

export async function recordOutcomeIn(
  tx: Executor,
  input: { merchantId: string; paymentId: string; answer: ConnectorAnswer; authorizationTtlSeconds?: number },
): Promise<PaymentRow> {
  const current = await lockPayment(tx, input.merchantId, input.paymentId);
  if (!current) throw new AppError('not_found', `No payment ${input.paymentId}.`);
  const event: PaymentEvent = input.answer.status;
  const next = transition(current.kind, current.status, event);
  if (!next.ok) {
    if (settledAs(current.kind, current.status) === event) return current;
    throw new AppError(
      'invalid_state_transition',
      `Payment ${current.id} is ${current.status}; it cannot take "${event}".`,
    );
  }
  if (next.to === current.status && event !== 'pending' && event !== 'unknown') return current;
  const ttl = input.authorizationTtlSeconds ?? authorizationTtlSecondsDefault;
  const updated = await tx
    .updateTable('payments')
    .set({
      status: next.to,
      connector_ref: sql<string | null>`coalesce(${input.answer.connectorRef ?? null}, connector_ref)`,
      raw_code: input.answer.rawCode,
      raw_message: input.answer.rawMessage ?? null,
      captured_minor:
        current.kind === 'sale' && next.to === 'succeeded' ? current.amount_minor : current.captured_minor,
      expires_at:
        next.to === 'authorized'
          ? sql<Date>`${paymentNowSql} + make_interval(secs => ${ttl})`
          : current.expires_at,
      updated_at: sql<Date>`now()`,
    })
    .where('merchant_id', '=', current.merchant_id)
    .where('id', '=', current.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await insertTransition(tx, updated, {
    from: current.status,
    to: updated.status,
    event,
    amountMinor: updated.amount_minor,
    rawCode: input.answer.rawCode,
  });
  await emit(tx, updated);
  // The posting touches the merchant's busiest rows (account totals): last, so their locks are held
  // for as short a time as possible before the commit.
  if (updated.status !== current.status) await postFor(tx, current, updated);
  return updated;
}

/** The status a payment settles in for a connector answer; repeats of the same answer are no-ops. */
function settledAs(kind: PaymentKind, status: PaymentStatus): PaymentEvent | undefined {
  if (status === 'failed') return 'declined';
  if (
    (kind !== 'authorization' && status === 'succeeded') ||
    (kind === 'authorization' && status === 'authorized')
  ) {
    return 'succeeded';
  }
  return undefined;
}

async function postFor(tx: Executor, before: PaymentRow, after: PaymentRow): Promise<void> {
  const currency = after.currency as Currency;
  const common = { merchantId: after.merchant_id, environment: after.environment, paymentId: after.id };
  if (after.kind === 'sale' && after.status === 'succeeded') {
    await postTransaction(tx, {
      ...common,
      kind: 'sale',
      entries: [
        debit('connector_receivable', currency, after.amount_minor),
        credit('merchant_payable', currency, after.amount_minor),
      ],
    });
  } else if (after.kind === 'authorization' && after.status === 'authorized') {
    await placeHold(tx, { ...common, currency, amountMinor: after.amount_minor });
    await enqueue(tx, {
      queue: expireQueue,
      payload: { merchantId: after.merchant_id, paymentId: after.id },
      merchantId: after.merchant_id,
      environment: after.environment,
      testClockId: after.test_clock_id,
      ...(after.expires_at ? { runAt: after.expires_at } : {}),
      singletonKey: after.id,
    });
  } else if (after.kind === 'refund' && after.status === 'succeeded') {
    await postTransaction(tx, {
      ...common,
      kind: 'refund',
      entries: [
        debit('merchant_payable', currency, after.amount_minor),
        credit('connector_receivable', currency, after.amount_minor),
      ],
    });
  } else if (after.kind === 'refund' && after.status === 'failed' && before.status !== 'failed') {
    // The refundable amount reserved on the parent when the refund was created is given back.
    await tx
      .updateTable('payments')
      .set({
        refunded_minor: sql<bigint>`refunded_minor - ${after.amount_minor.toString()}::bigint`,
        updated_at: sql<Date>`now()`,
      })
      .where('merchant_id', '=', after.merchant_id)
      .where('id', '=', after.parent_payment_id ?? '')
      .execute();
  }
}

interface ResolveInput {
  merchantId: string;
  environment: Environment;
  paymentId: string;
}

/** Captures an authorization once, at most its amount (default: all of it), before it expires. */
export async function capturePayment(
  db: Db,
  input: ResolveInput & { amountMinor?: bigint },
): Promise<PaymentRow> {
  return transaction(db, async (tx) => {
    const amount = input.amountMinor;
    const row = await tx
      .updateTable('payments')
      .set({
        status: 'captured',
        captured_minor: amount === undefined ? sql<bigint>`amount_minor` : amount,
        updated_at: sql<Date>`now()`,
      })
      .where('merchant_id', '=', input.merchantId)
      .where('environment', '=', input.environment)
      .where('id', '=', input.paymentId)
      .where('kind', '=', 'authorization')
      .where('status', '=', 'authorized')
      .where('expires_at', '>', paymentNowSql)
      .where('amount_minor', '>=', amount ?? 0n)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw await whyNot(tx, input, 'capture', amount);
    await resolveHold(tx, {
      merchantId: row.merchant_id,
      paymentId: row.id,
      resolution: 'posted',
      postMinor: row.captured_minor,
    });
    await insertTransition(tx, row, {
      from: 'authorized',
      to: 'captured',
      event: 'capture',
      amountMinor: row.captured_minor,
    });
    await emit(tx, row);
    return row;
  });
}

export async function voidPayment(db: Db, input: ResolveInput): Promise<PaymentRow> {
  return transaction(db, async (tx) => {
    const row = await tx
      .updateTable('payments')
      .set({ status: 'voided', updated_at: sql<Date>`now()` })
      .where('merchant_id', '=', input.merchantId)
      .where('environment', '=', input.environment)
      .where('id', '=', input.paymentId)
      .where('kind', '=', 'authorization')
      .where('status', '=', 'authorized')
      .returningAll()
      .executeTakeFirst();
    if (!row) throw await whyNot(tx, input, 'void', undefined);
    await resolveHold(tx, { merchantId: row.merchant_id, paymentId: row.id, resolution: 'voided' });
    await insertTransition(tx, row, { from: 'authorized', to: 'voided', event: 'void' });
    await emit(tx, row);
    return row;
  });
}

/** Expires an authorization whose time (on its clock) has come; a no-op otherwise (safe to run twice). */
export async function expirePayment(
  db: Db,
  input: { merchantId: string; paymentId: string },
): Promise<PaymentRow | undefined> {
  return transaction(db, async (tx) => {
    const row = await tx
      .updateTable('payments')
      .set({ status: 'expired', updated_at: sql<Date>`now()` })
      .where('merchant_id', '=', input.merchantId)
      .where('id', '=', input.paymentId)
      .where('kind', '=', 'authorization')
      .where('status', '=', 'authorized')
      .where('expires_at', '<=', paymentNowSql)
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    await resolveHold(tx, { merchantId: row.merchant_id, paymentId: row.id, resolution: 'expired' });
    await insertTransition(tx, row, { from: 'authorized', to: 'expired', event: 'expire' });
    await emit(tx, row);
    return row;
  });
}

/**
 * Starts a refund: reserves the amount on the captured payment (total refunded ≤ captured, decided by a
 * guarded UPDATE, so concurrent refunds cannot overshoot) and creates the refund attempt, pending.
 */
export async function createRefund(
  tx: Executor,
  input: ResolveInput & { amountMinor?: bigint; reference?: string; description?: string },
): Promise<PaymentRow> {
  const parent = await tx
    .updateTable('payments')
    .set({
      refunded_minor:
        input.amountMinor === undefined
          ? sql<bigint>`captured_minor`
          : sql<bigint>`refunded_minor + ${input.amountMinor.toString()}::bigint`,
      updated_at: sql<Date>`now()`,
    })
    .where('merchant_id', '=', input.merchantId)
    .where('environment', '=', input.environment)
    .where('id', '=', input.paymentId)
    .where('status', 'in', ['succeeded', 'captured'])
    .where('kind', '!=', 'refund')
    .where(
      input.amountMinor === undefined
        ? sql<boolean>`refunded_minor < captured_minor AND refunded_minor = 0`
        : sql<boolean>`refunded_minor + ${input.amountMinor.toString()}::bigint <= captured_minor`,
    )
    .returningAll()
    .executeTakeFirst();
  if (!parent) {
    const current = await tx
      .selectFrom('payments')
      .selectAll()
      .where('merchant_id', '=', input.merchantId)
      .where('environment', '=', input.environment)
      .where('id', '=', input.paymentId)
      .executeTakeFirst();
    if (!current || current.kind === 'refund')
      throw new AppError('not_found', `No payment ${input.paymentId}.`);
    if (current.captured_minor === 0n) throw new AppError('payment_not_refundable');
    throw new AppError(
      'refund_exceeds_captured',
      `At most ${current.captured_minor - current.refunded_minor} more can be refunded.`,
      { field: 'amount' },
    );
  }
  const amountMinor = input.amountMinor ?? parent.captured_minor;
  const refund = await insertPayment(tx, {
    merchantId: parent.merchant_id,
    environment: parent.environment,
    product: parent.product,
    kind: 'refund',
    amountMinor,
    currency: parent.currency,
    payerRef: parent.payer_ref,
    connectorId: parent.connector_id,
    reference: input.reference ?? null,
    description: input.description ?? null,
    parentPaymentId: parent.id,
    testClockId: parent.test_clock_id,
  });
  await emit(tx, refund);
  return refund;
}

async function whyNot(
  tx: Executor,
  input: ResolveInput,
  action: string,
  amount: bigint | undefined,
): Promise<AppError> {
  const current = await tx
    .selectFrom('payments')
    .select(['kind', 'status', 'amount_minor', sql<boolean>`expires_at <= ${paymentNowSql}`.as('expired')])
    .where('merchant_id', '=', input.merchantId)
    .where('environment', '=', input.environment)
    .where('id', '=', input.paymentId)
    .executeTakeFirst();
  if (!current) return new AppError('not_found', `No payment ${input.paymentId}.`);
  if (current.kind !== 'authorization')
    return new AppError('invalid_state_transition', `Only authorizations can ${action}.`);
  if (['captured', 'voided', 'expired'].includes(current.status)) {
    return new AppError('hold_already_resolved', `The authorization is already ${current.status}.`);
  }
  if (current.status !== 'authorized')
    return new AppError('invalid_state_transition', `The authorization is ${current.status}.`);
  if (current.expired) return new AppError('authorization_expired');
  if (amount !== undefined && amount > current.amount_minor) {
    return new AppError('exceeds_held_amount', `At most ${current.amount_minor} can be captured.`, {
      field: 'amount',
    });
  }
  return new AppError('conflict');
}

async function emit(tx: Executor, row: PaymentRow): Promise<void> {
  await recordEvent(tx, {
    merchantId: row.merchant_id,
    environment: row.environment,
    type: `${row.kind === 'refund' ? 'refund' : 'payment'}.${row.status === 'pending' ? 'created' : row.status}`,
    objectId: row.id,
    data: paymentView(row),
    testClockId: row.test_clock_id,
    product: row.product,
  });
}

export function paymentView(row: PaymentRow) {
  return {
    id: row.id,
    object: row.kind === 'refund' ? ('refund' as const) : ('payment' as const),
    product: row.product,
    kind: row.kind,
    status: row.status,
    amount_minor: Number(row.amount_minor),
    currency: row.currency,
    captured_minor: Number(row.captured_minor),
    refunded_minor: Number(row.refunded_minor),
    payer_ref: row.payer_ref,
    connector_id: row.connector_id,
    connector_ref: row.connector_ref,
    raw_code: row.raw_code,
    raw_message: row.raw_message,
    parent_payment_id: row.parent_payment_id,
    reference: row.reference,
    description: row.description,
    test_clock_id: row.test_clock_id,
    expires_at: row.expires_at?.toISOString() ?? null,
    metadata: row.metadata,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
