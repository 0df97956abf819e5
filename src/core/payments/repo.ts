import { sql, type Selectable } from 'kysely';
import type { Executor } from '../db/db.js';
import type { Environment, PaymentKind, PaymentStatus, PaymentsTable, Product } from '../db/schema.js';
import { newId } from '../ids/ids.js';

export type PaymentRow = Selectable<PaymentsTable>;

/** "Now" for a payment: its test clock's frozen time, or database time. */
export const paymentNowSql = sql<Date>`coalesce((SELECT frozen_time FROM test_clocks WHERE id = payments.test_clock_id), now())`;

export interface InsertPayment {
  merchantId: string;
  environment: Environment;
  product: Product;
  kind: PaymentKind;
  amountMinor: bigint;
  currency: string;
  payerRef: string;
  connectorId: string;
  reference?: string | null;
  description?: string | null;
  parentPaymentId?: string | null;
  testClockId?: string | null;
  metadata?: Record<string, unknown>;
}

export async function insertPayment(tx: Executor, input: InsertPayment): Promise<PaymentRow> {
  const id = newId('payment');
  const row = await tx
    .insertInto('payments')
    .values({
      merchant_id: input.merchantId,
      id,
      environment: input.environment,
      product: input.product,
      kind: input.kind,
      status: 'pending',
      amount_minor: input.amountMinor,
      currency: input.currency,
      payer_ref: input.payerRef,
      connector_id: input.connectorId,
      reference: input.reference ?? null,
      description: input.description ?? null,
      parent_payment_id: input.parentPaymentId ?? null,
      test_clock_id: input.testClockId ?? null,
      metadata: JSON.stringify(input.metadata ?? {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await insertTransition(tx, row, {
    from: null,
    to: 'pending',
    event: 'created',
    amountMinor: row.amount_minor,
  });
  return row;
}

export async function insertTransition(
  tx: Executor,
  payment: Pick<PaymentRow, 'merchant_id' | 'id'>,
  t: {
    from: PaymentStatus | null;
    to: PaymentStatus;
    event: string;
    amountMinor?: bigint | null;
    rawCode?: string | null;
  },
): Promise<void> {
  await sql`
    INSERT INTO payment_transitions (merchant_id, payment_id, seq, from_status, to_status, event, amount_minor, raw_code)
    SELECT ${payment.merchant_id}, ${payment.id}, coalesce(max(seq), 0) + 1, ${t.from}, ${t.to}, ${t.event},
           ${t.amountMinor?.toString() ?? null}::bigint, ${t.rawCode ?? null}
      FROM payment_transitions WHERE merchant_id = ${payment.merchant_id} AND payment_id = ${payment.id}`.execute(
    tx,
  );
}

export async function lockPayment(
  tx: Executor,
  merchantId: string,
  id: string,
): Promise<PaymentRow | undefined> {
  return tx
    .selectFrom('payments')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function findPayment(
  db: Executor,
  scope: { merchantId: string; environment?: Environment },
  id: string,
): Promise<PaymentRow | undefined> {
  let query = db
    .selectFrom('payments')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('id', '=', id);
  if (scope.environment) query = query.where('environment', '=', scope.environment);
  return query.executeTakeFirst();
}

export async function listPayments(
  db: Executor,
  filter: {
    merchantId: string;
    environment: Environment;
    limit: number;
    startingAfter?: string;
    product?: Product;
    status?: PaymentStatus;
    createdFrom?: Date;
    createdTo?: Date;
  },
): Promise<PaymentRow[]> {
  let query = db
    .selectFrom('payments')
    .selectAll()
    .where('merchant_id', '=', filter.merchantId)
    .where('environment', '=', filter.environment)
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.startingAfter) query = query.where('id', '<', filter.startingAfter);
  if (filter.product) query = query.where('product', '=', filter.product);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.createdFrom) query = query.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo) query = query.where('created_at', '<', filter.createdTo);
  return query.execute();
}

export async function paymentTimeline(db: Executor, merchantId: string, id: string) {
  return db
    .selectFrom('payment_transitions')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('payment_id', '=', id)
    .orderBy('seq')
    .execute();
}

/** Payments whose connector answer is still missing: `unknown`, or `pending` for longer than `staleSeconds`. */
export async function unsettledPayments(
  db: Executor,
  staleSeconds: number,
  limit: number,
): Promise<PaymentRow[]> {
  return db
    .selectFrom('payments')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('status', '=', 'unknown'),
        eb.and([
          eb('status', '=', 'pending'),
          eb('updated_at', '<', sql<Date>`now() - make_interval(secs => ${staleSeconds})`),
        ]),
      ]),
    )
    .orderBy('updated_at')
    .limit(limit)
    .execute();
}
