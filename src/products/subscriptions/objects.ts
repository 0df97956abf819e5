import { sql, type RawBuilder } from 'kysely';
import { DateTime } from 'luxon';
import { clockNow } from '../../core/clocks/test-clocks.js';
import type { Executor } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import type { Currency } from '../../core/money/money.js';
import {
  address,
  amountField,
  amountOut,
  bool,
  businessConsumer,
  consumer,
  currencyField,
  customReferences,
  envelope,
  has,
  int,
  invalid,
  isoDate,
  newSpId,
  nullableStr,
  oneOf,
  SpError,
  str,
  timestamp,
  type Json,
  type PageQuery,
} from './dialect.js';
import { spEvent, type SpOrigin } from './events.js';
import { canTransition, type SubscriptionStatus } from './machine.js';
import { anchorOf, isTimezone, trialEnd, type Terms, type Unit } from './schedule.js';

export interface Scope {
  readonly merchantId: string;
  readonly environment: Environment;
}

const units = ['day', 'month', 'year'] as const;

// ---------------------------------------------------------------------------------------------------
// Plans

export interface PlanRow {
  id: string;
  name: string;
  description: string;
  recurrent_minor: string;
  currency: string;
  trial_period: number | null;
  trial_unit: Unit | null;
  billing_occurrence: number;
  billing_unit: Unit;
  billing_cycles: number;
  prepaid: boolean;
  merchant_metadata: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export function planView(row: PlanRow) {
  return {
    id: row.id,
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    deletedAt: timestamp(row.deleted_at),
    name: row.name,
    description: row.description,
    recurrentAmount: amountOut(BigInt(row.recurrent_minor), row.currency),
    currencyIsoCode: row.currency,
    trialDurationPeriod: row.trial_period,
    trialDurationUnit: row.trial_unit,
    billingOccurrence: row.billing_occurrence,
    billingUnit: row.billing_unit,
    billingCycles: row.billing_cycles,
    prepaid: row.prepaid,
    merchantMetadata: row.merchant_metadata,
  };
}

function billingCyclesField(body: Json, required: boolean): number | undefined {
  const value = int(body, 'billingCycles', { required, min: -1, max: 120 });
  if (value === 0) throw invalid('billingCycles', 'must be -1 (unlimited) or between 1 and 120.');
  return value;
}

function trialFields(body: Json): { period: number | null | undefined; unit: Unit | null | undefined } {
  const period =
    body.trialDurationPeriod === null ? null : int(body, 'trialDurationPeriod', { min: 1, max: 28 });
  const unit = body.trialDurationUnit === null ? null : oneOf(body, 'trialDurationUnit', units);
  return { period, unit };
}

export async function createPlan(tx: Executor, scope: Scope, body: Json): Promise<PlanRow> {
  const name = str(body, 'name', { required: true, max: 255 });
  const description = str(body, 'description', { required: true, max: 255 });
  const currency = currencyField(body, 'currencyIsoCode', true) as Currency;
  const amount = amountField(body, 'recurrentAmount', currency, true);
  const trial = trialFields(body);
  if ((trial.period ?? null) === null && (trial.unit ?? null) !== null) {
    throw new SpError(
      'MISSING_FIELD',
      'trialDurationPeriod is required with trialDurationUnit.',
      'trialDurationPeriod',
    );
  }
  if ((trial.unit ?? null) === null && (trial.period ?? null) !== null) {
    throw new SpError(
      'MISSING_FIELD',
      'trialDurationUnit is required with trialDurationPeriod.',
      'trialDurationUnit',
    );
  }
  const occurrence = int(body, 'billingOccurrence', { required: true, min: 1, max: 99 });
  const unit = oneOf(body, 'billingUnit', units, { required: true });
  const cycles = billingCyclesField(body, true);
  const prepaid = bool(body, 'prepaid') ?? true;
  const metadata = str(body, 'merchantMetadata', { max: 255 }) ?? null;
  const { rows } = await sql<PlanRow>`
    INSERT INTO sp_plans (merchant_id, environment, id, name, description, recurrent_minor, currency, trial_period,
                          trial_unit, billing_occurrence, billing_unit, billing_cycles, prepaid, merchant_metadata)
    VALUES (${scope.merchantId}, ${scope.environment}, ${newSpId('plan')}, ${name}, ${description}, ${String(amount)},
            ${currency}, ${trial.period ?? null}, ${trial.unit ?? null}, ${occurrence}, ${unit}, ${cycles}, ${prepaid},
            ${metadata})
    RETURNING *`.execute(tx);
  const row = one(rows);
  await spEvent(tx, {
    ...scope,
    eventType: 'created',
    origin: 'api',
    objectType: 'plan',
    objectId: row.id,
    data: planView(row),
  });
  return row;
}

export async function getPlan(db: Executor, scope: Scope, id: string): Promise<PlanRow> {
  const { rows } = await sql<PlanRow>`
    SELECT * FROM sp_plans WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${id}`.execute(
    db,
  );
  const row = rows[0];
  if (!row) throw new SpError('NOT_FOUND', `No subscription plan ${id}.`, 'subscriptionPlanId');
  return row;
}

export async function updatePlan(tx: Executor, scope: Scope, id: string, body: Json): Promise<PlanRow> {
  const { rows: lockedRows } = await sql<PlanRow>`
    SELECT * FROM sp_plans WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${id}
       FOR UPDATE`.execute(tx);
  const current = lockedRows[0];
  if (!current) throw new SpError('NOT_FOUND', `No subscription plan ${id}.`, 'subscriptionPlanId');
  if (current.deleted_at)
    throw new SpError('INVALID_STATE', `Subscription plan ${id} is deleted.`, 'subscriptionPlanId');
  const name = str(body, 'name', { max: 255, required: has(body, 'name') });
  const description = str(body, 'description', { max: 255, required: has(body, 'description') });
  const currency = (currencyField(body, 'currencyIsoCode', false) ?? current.currency) as Currency;
  const amount = amountField(body, 'recurrentAmount', currency, false);
  if (currency !== current.currency && amount === undefined) {
    throw new SpError(
      'MISSING_FIELD',
      'recurrentAmount is required when currencyIsoCode changes.',
      'recurrentAmount',
    );
  }
  const trial = trialFields(body);
  // Both trial fields null removes the trial; one null alone would leave half a trial.
  const period = trial.period === undefined ? current.trial_period : trial.period;
  const unitOfTrial = trial.unit === undefined ? current.trial_unit : trial.unit;
  if ((period === null) !== (unitOfTrial === null)) {
    const field = period === null ? 'trialDurationPeriod' : 'trialDurationUnit';
    throw invalid(field, 'must be set (or null) together with the other trial field.');
  }
  const occurrence =
    body.billingOccurrence === null ? undefined : int(body, 'billingOccurrence', { min: 1, max: 99 });
  const unit = body.billingUnit === null ? undefined : oneOf(body, 'billingUnit', units);
  if ((occurrence === undefined) !== (unit === undefined)) {
    throw new SpError(
      'MISSING_FIELD',
      'billingOccurrence and billingUnit are updated together.',
      occurrence === undefined ? 'billingOccurrence' : 'billingUnit',
    );
  }
  const cycles = billingCyclesField(body, false);
  const prepaid = bool(body, 'prepaid');
  const metadata = nullableStr(body, 'merchantMetadata', 255);
  const { rows } = await sql<PlanRow>`
    UPDATE sp_plans SET
      name = ${name ?? current.name}, description = ${description ?? current.description},
      currency = ${currency}, recurrent_minor = ${amount === undefined ? current.recurrent_minor : String(amount)},
      trial_period = ${period}, trial_unit = ${unitOfTrial},
      billing_occurrence = ${occurrence ?? current.billing_occurrence}, billing_unit = ${unit ?? current.billing_unit},
      billing_cycles = ${cycles ?? current.billing_cycles}, prepaid = ${prepaid ?? current.prepaid},
      merchant_metadata = ${metadata === undefined ? current.merchant_metadata : metadata}, updated_at = now()
    WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${id}
    RETURNING *`.execute(tx);
  const row = one(rows);
  await spEvent(tx, {
    ...scope,
    eventType: 'updated',
    origin: 'api',
    objectType: 'plan',
    objectId: id,
    data: planView(row),
  });
  return row;
}

/** Soft delete: the plan stays readable (`deletedAt`, `deleted=true`); its live subscriptions keep billing. */
export async function deletePlan(tx: Executor, scope: Scope, id: string): Promise<void> {
  const { rows } = await sql<PlanRow>`
    UPDATE sp_plans SET deleted_at = coalesce(deleted_at, now()), updated_at = now()
     WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${id}
    RETURNING *`.execute(tx);
  const row = rows[0];
  if (!row) throw new SpError('NOT_FOUND', `No subscription plan ${id}.`, 'subscriptionPlanId');
  await spEvent(tx, {
    ...scope,
    eventType: 'deleted',
    origin: 'api',
    objectType: 'plan',
    objectId: id,
    data: planView(row),
  });
}

export interface ListFilter {
  createdAtLte?: Date | undefined;
  createdAtGte?: Date | undefined;
  updatedAtLte?: Date | undefined;
  updatedAtGte?: Date | undefined;
  deleted?: boolean | undefined;
  text?: Record<string, string | undefined>;
}

function where(scope: Scope, filter: ListFilter, columns: Record<string, string>): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [
    sql`merchant_id = ${scope.merchantId} AND environment = ${scope.environment}`,
  ];
  if (filter.createdAtLte) parts.push(sql`created_at <= ${filter.createdAtLte.toISOString()}::timestamptz`);
  if (filter.createdAtGte) parts.push(sql`created_at >= ${filter.createdAtGte.toISOString()}::timestamptz`);
  if (filter.updatedAtLte) parts.push(sql`updated_at <= ${filter.updatedAtLte.toISOString()}::timestamptz`);
  if (filter.updatedAtGte) parts.push(sql`updated_at >= ${filter.updatedAtGte.toISOString()}::timestamptz`);
  if (filter.deleted === true) parts.push(sql`deleted_at IS NOT NULL`);
  if (filter.deleted === false) parts.push(sql`deleted_at IS NULL`);
  for (const [name, value] of Object.entries(filter.text ?? {})) {
    const column = columns[name];
    if (value !== undefined && column) parts.push(sql`${sql.ref(column)} = ${value}`);
  }
  return sql.join(parts, sql` AND `);
}

/** One page and the total count, in one statement. */
export async function listPage<T>(
  db: Executor,
  table: string,
  scope: Scope,
  filter: ListFilter,
  columns: Record<string, string>,
  page: PageQuery,
): Promise<{ count: number; rows: T[] }> {
  const { rows } = await sql<T & { total: string }>`
    SELECT *, count(*) OVER () AS total FROM ${sql.table(table)}
     WHERE ${where(scope, filter, columns)}
     ORDER BY created_at, id
     LIMIT ${page.pageSize} OFFSET ${page.page * page.pageSize}`.execute(db);
  let count = rows[0] ? Number(rows[0].total) : 0;
  if (rows.length === 0 && page.page > 0) {
    const { rows: counted } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.table(table)} WHERE ${where(scope, filter, columns)}`.execute(db);
    count = Number(counted[0]?.n ?? 0);
  }
  return { count, rows };
}

export function page<T, V>(query: PageQuery, result: { count: number; rows: T[] }, view: (row: T) => V) {
  return envelope(query, result.count, result.rows.map(view));
}

// ---------------------------------------------------------------------------------------------------
// Subscriptions

export interface SubscriptionRow {
  id: string;
  merchant_id: string;
  environment: Environment;
  plan_id: string;
  customer_account_id: string;
  status: SubscriptionStatus;
  start_date: string;
  start_at: Date;
  timezone: string;
  amount_minor: string;
  currency: string;
  billing_occurrence: number;
  billing_unit: Unit;
  billing_cycles: number;
  prepaid: boolean;
  trial_start_date: Date | string | null;
  trial_end_date: Date | string | null;
  billing_cycles_remaining: number;
  cycles_created: number;
  next_billing_date: Date | string | null;
  balance_minor: string;
  paused_at: Date | null;
  pause_credit_minor: string;
  billing_agreement_id: string | null;
  billing_address: Json;
  shipping_address: Json | null;
  consumer: Json | null;
  business_consumer: Json | null;
  external_merchant_id: string | null;
  merchant_metadata: string | null;
  custom_references: Json | null;
  test_clock_id: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface AgreementInfo {
  id: string;
  status: string;
  card_id: string | null;
  brand: string | null;
  first6: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
}

export function shortCardNumber(first6: string | null, last4: string | null): string | null {
  return first6 && last4 ? `${first6}******${last4}` : null;
}

export function brandName(brand: string | null): string | null {
  if (!brand) return null;
  const names: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express' };
  return names[brand] ?? 'Card';
}

function agreementView(agreement: AgreementInfo | undefined) {
  if (!agreement) return null;
  return {
    id: agreement.id,
    status: agreement.status,
    storedPaymentOptionReference: agreement.card_id,
    shortCardNumber: shortCardNumber(agreement.first6, agreement.last4),
    billingAgreementName: brandName(agreement.brand),
    expiryMonth: agreement.exp_month,
    expiryYear: agreement.exp_year,
  };
}

export function termsOf(
  row: Pick<
    SubscriptionRow,
    'start_date' | 'timezone' | 'billing_occurrence' | 'billing_unit' | 'prepaid'
  > & { trial_period: number | null; trial_unit: Unit | null },
): Terms {
  return {
    timezone: row.timezone,
    startAt: anchorOf(row.start_date, row.timezone),
    trial: row.trial_period && row.trial_unit ? { period: row.trial_period, unit: row.trial_unit } : null,
    occurrence: row.billing_occurrence,
    unit: row.billing_unit,
    prepaid: row.prepaid,
  };
}

export function subscriptionView(row: SubscriptionRow, agreement?: AgreementInfo) {
  return {
    id: row.id,
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    deletedAt: timestamp(row.deleted_at),
    planId: row.plan_id,
    customerAccountId: row.customer_account_id,
    status: row.status,
    payment: {
      recurrentAmount: amountOut(BigInt(row.amount_minor), row.currency),
      currencyIsoCode: row.currency,
      billingOccurrence: row.billing_occurrence,
      billingUnit: row.billing_unit,
      billingCycles: row.billing_cycles,
      prepaid: row.prepaid,
    },
    startDate: row.start_date,
    timezone: row.timezone,
    trialStartDate: isoDate(row.trial_start_date),
    trialEndDate: isoDate(row.trial_end_date),
    nextBillingDate: isoDate(row.next_billing_date),
    billingCyclesRemaining: row.billing_cycles_remaining,
    balance: amountOut(BigInt(row.balance_minor), row.currency),
    pausedAt: timestamp(row.paused_at),
    billingAgreementId: row.billing_agreement_id,
    billingAgreement: agreementView(agreement),
    billingAddress: row.billing_address,
    shippingAddress: row.shipping_address,
    consumer: row.consumer,
    businessConsumer: row.business_consumer,
    externalMerchantId: row.external_merchant_id,
    merchantMetadata: row.merchant_metadata,
    customReferences: row.custom_references,
  };
}

export async function agreementInfo(
  db: Executor,
  scope: Scope,
  id: string | null,
): Promise<AgreementInfo | undefined> {
  if (!id) return undefined;
  const { rows } = await sql<AgreementInfo>`
    SELECT a.id, a.status, a.card_id, c.brand, c.first6, c.last4, c.exp_month, c.exp_year
      FROM sp_billing_agreements a
      LEFT JOIN vault_cards c ON c.merchant_id = a.merchant_id AND c.environment = a.environment AND c.id = a.card_id
     WHERE a.merchant_id = ${scope.merchantId} AND a.environment = ${scope.environment} AND a.id = ${id}`.execute(
    db,
  );
  return rows[0];
}

/** "Now" for an object: its test clock's time, or the process clock. */
export async function nowFor(db: Executor, testClockId: string | null, realNow: () => Date): Promise<Date> {
  return testClockId ? clockNow(db, testClockId) : realNow();
}

const startDatePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export async function createSubscription(
  tx: Executor,
  scope: Scope,
  body: Json,
  options: { testClockId: string | null; now: () => Date },
): Promise<SubscriptionRow> {
  const planRaw = str(body, 'planId', { required: true, max: 53 }) ?? '';
  const customerAccountId = str(body, 'customerAccountId', { required: true, max: 125 }) ?? '';
  const startDate = str(body, 'startDate', { required: true, max: 35, pattern: startDatePattern }) ?? '';
  const timezone = str(body, 'timezone', { max: 32 }) ?? 'UTC';
  if (!isTimezone(timezone)) throw invalid('timezone', 'is not an IANA time zone name.');
  const anchor = anchorOf(startDate, timezone);
  if (!anchor.isValid) throw invalid('startDate', 'is not a valid date-time.');
  const now = await nowFor(tx, options.testClockId, options.now);
  // Validated on the date part, in the subscription's time zone.
  const today = DateTime.fromJSDate(now).setZone(timezone).toISODate() ?? '';
  if ((anchor.toISODate() ?? '') < today) throw invalid('startDate', 'must not be in the past.');
  const billingAddress = address(body, 'billingAddress', { required: true });
  const shippingAddress = address(body, 'shippingAddress', { required: false }) ?? null;
  const person = consumer(body, 'consumer') ?? null;
  const business = businessConsumer(body, 'businessConsumer') ?? null;
  if (!person && !business) {
    throw new SpError('MISSING_FIELD', 'consumer or businessConsumer is required.', 'consumer');
  }
  if (person && business) throw invalid('businessConsumer', 'cannot be sent together with consumer.');
  const external = str(body, 'externalMerchantId', { max: 255 }) ?? null;
  const metadata = str(body, 'merchantMetadata', { max: 255 }) ?? null;
  const references = customReferences(body) ?? null;
  const planId = planRaw;
  const { rows: plans } = await sql<PlanRow>`
    SELECT * FROM sp_plans WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment}
       AND lower(id) = lower(${planId})`.execute(tx);
  const plan = plans[0];
  if (!plan) throw new SpError('NOT_FOUND', `No subscription plan ${planId}.`, 'planId');
  if (plan.deleted_at) throw invalid('planId', 'names a deleted plan.');
  const terms = termsOf({
    start_date: startDate,
    timezone,
    billing_occurrence: plan.billing_occurrence,
    billing_unit: plan.billing_unit,
    prepaid: plan.prepaid,
    trial_period: plan.trial_period,
    trial_unit: plan.trial_unit,
  });
  const trialEndsAt = trialEnd(terms);
  const id = newSpId('subscription');
  const agreementId = newSpId('billingAgreement');
  const { rows } = await sql<SubscriptionRow>`
    WITH agreement AS (
      INSERT INTO sp_billing_agreements (merchant_id, environment, id, object_type, object_id, status)
      VALUES (${scope.merchantId}, ${scope.environment}, ${agreementId}, 'subscription', ${id}, 'pending')
    )
    INSERT INTO sp_subscriptions (merchant_id, environment, id, plan_id, customer_account_id, status, start_date, start_at,
      timezone, amount_minor, currency, billing_occurrence, billing_unit, billing_cycles, prepaid, trial_start_date,
      trial_end_date, billing_cycles_remaining, next_billing_date, billing_agreement_id, billing_address, shipping_address,
      consumer, business_consumer, external_merchant_id, merchant_metadata, custom_references, test_clock_id)
    VALUES (${scope.merchantId}, ${scope.environment}, ${id}, ${plan.id}, ${customerAccountId}, 'created', ${startDate},
      ${anchor.toJSDate().toISOString()}::timestamptz, ${timezone}, ${plan.recurrent_minor}, ${plan.currency},
      ${plan.billing_occurrence}, ${plan.billing_unit}, ${plan.billing_cycles}, ${plan.prepaid},
      ${trialEndsAt ? anchor.toISODate() : null}, ${trialEndsAt ? trialEndsAt.toISODate() : null},
      ${plan.billing_cycles}, NULL, ${agreementId}, ${JSON.stringify(billingAddress)}::jsonb,
      ${shippingAddress ? JSON.stringify(shippingAddress) : null}::jsonb, ${person ? JSON.stringify(person) : null}::jsonb,
      ${business ? JSON.stringify(business) : null}::jsonb, ${external}, ${metadata},
      ${references ? JSON.stringify(references) : null}::jsonb, ${options.testClockId})
    RETURNING *`.execute(tx);
  const row = one(rows);
  await spEvent(tx, {
    ...scope,
    eventType: 'created',
    origin: 'api',
    objectType: 'subscription',
    objectId: id,
    status: row.status,
    data: subscriptionView(row, {
      id: agreementId,
      status: 'pending',
      card_id: null,
      brand: null,
      first6: null,
      last4: null,
      exp_month: null,
      exp_year: null,
    }),
    testClockId: row.test_clock_id,
  });
  return row;
}

export async function getSubscription(
  db: Executor,
  scope: Scope,
  id: string,
  lock = false,
): Promise<SubscriptionRow> {
  const { rows } = await sql<SubscriptionRow>`
    SELECT * FROM sp_subscriptions
     WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${id}
     ${lock ? sql`FOR UPDATE` : sql``}`.execute(db);
  const row = rows[0];
  if (!row) throw new SpError('NOT_FOUND', `No subscription ${id}.`, 'subscriptionId');
  return row;
}

export async function setSubscriptionStatus(
  tx: Executor,
  row: SubscriptionRow,
  to: SubscriptionStatus,
  from: readonly SubscriptionStatus[],
  extra: RawBuilder<unknown>,
  origin: SpOrigin,
): Promise<SubscriptionRow | undefined> {
  const { rows } = await sql<SubscriptionRow>`
    UPDATE sp_subscriptions SET status = ${to}, updated_at = now(), ${extra}
     WHERE merchant_id = ${row.merchant_id} AND environment = ${row.environment} AND id = ${row.id}
       AND status IN (${sql.join(from.map((s) => sql`${s}`))})
    RETURNING *`.execute(tx);
  const updated = rows[0];
  if (!updated) return undefined;
  await spEvent(tx, {
    merchantId: row.merchant_id,
    environment: row.environment,
    eventType: 'status.updated',
    origin,
    objectType: 'subscription',
    objectId: row.id,
    status: to,
    data: subscriptionView(updated),
    testClockId: row.test_clock_id,
  });
  return updated;
}

export interface SubscriptionPatch {
  billingAddress?: Json;
  shippingAddress?: Json;
  consumer?: Json;
  businessConsumer?: Json;
  billingCyclesRemaining?: number;
  status?: 'active' | 'paused';
  merchantMetadata?: string | null;
}

export function parseSubscriptionPatch(body: Json, current: SubscriptionRow): SubscriptionPatch {
  const patch: SubscriptionPatch = {};
  const billing = address(body, 'billingAddress', { required: false, partial: current.billing_address });
  if (billing) patch.billingAddress = billing;
  const shipping = address(body, 'shippingAddress', {
    required: false,
    partial: current.shipping_address ?? {},
  });
  if (shipping) patch.shippingAddress = shipping;
  const person = consumer(body, 'consumer', current.consumer ?? {});
  if (person) patch.consumer = person;
  const business = businessConsumer(body, 'businessConsumer', current.business_consumer ?? {});
  if (business) patch.businessConsumer = business;
  const remaining = int(body, 'billingCyclesRemaining', { min: -1, max: 120 });
  if (remaining !== undefined) {
    if (remaining === 0)
      throw invalid('billingCyclesRemaining', 'must be -1 (unlimited) or between 1 and 120.');
    patch.billingCyclesRemaining = remaining;
  }
  const status = str(body, 'status', { max: 8 });
  if (status !== undefined) {
    if (status !== 'active' && status !== 'paused') throw invalid('status', 'must be "active" or "paused".');
    patch.status = status;
  }
  const metadata = nullableStr(body, 'merchantMetadata', 255);
  if (metadata !== undefined) patch.merchantMetadata = metadata;
  return patch;
}

export function checkStatusChange(
  current: SubscriptionRow,
  status: 'active' | 'paused' | undefined,
): 'pause' | 'resume' | undefined {
  if (status === undefined || status === current.status) return undefined;
  if (status === 'paused') {
    if (!canTransition(current.status, 'pause')) {
      throw new SpError(
        'INVALID_STATE',
        `Only active subscriptions can be paused; this one is ${current.status}.`,
        'status',
      );
    }
    return 'pause';
  }
  if (!canTransition(current.status, 'resume')) {
    throw new SpError(
      'INVALID_STATE',
      `Only paused subscriptions can be resumed; this one is ${current.status}.`,
      'status',
    );
  }
  return 'resume';
}

// ---------------------------------------------------------------------------------------------------
// Payment series

export interface SeriesRow {
  id: string;
  merchant_id: string;
  environment: Environment;
  customer_account_id: string;
  currency: string;
  billing_agreement_id: string | null;
  billing_address: Json;
  shipping_address: Json | null;
  consumer: Json | null;
  business_consumer: Json | null;
  external_merchant_id: string | null;
  external_reference: string | null;
  merchant_metadata: string | null;
  custom_references: Json | null;
  test_clock_id: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export function seriesView(row: SeriesRow, agreement?: AgreementInfo) {
  return {
    id: row.id,
    createdAt: timestamp(row.created_at),
    updatedAt: timestamp(row.updated_at),
    deletedAt: timestamp(row.deleted_at),
    currencyIsoCode: row.currency,
    customerAccountId: row.customer_account_id,
    merchantMetadata: row.merchant_metadata,
    externalMerchantId: row.external_merchant_id,
    externalReference: row.external_reference,
    billingAgreement: agreement && agreement.status === 'active' ? agreementView(agreement) : null,
    billingAddress: row.billing_address,
    shippingAddress: row.shipping_address,
    consumer: row.consumer,
    businessConsumer: row.business_consumer,
    customReferences: row.custom_references,
  };
}

export async function createSeries(
  tx: Executor,
  scope: Scope,
  body: Json,
  testClockId: string | null,
): Promise<SeriesRow> {
  const customerAccountId = str(body, 'customerAccountId', { required: true, max: 125 }) ?? '';
  const currency = currencyField(body, 'currencyIsoCode', true) as Currency;
  const billingAddress = address(body, 'billingAddress', { required: true });
  const shippingAddress = address(body, 'shippingAddress', { required: false }) ?? null;
  const person = consumer(body, 'consumer') ?? null;
  const business = businessConsumer(body, 'businessConsumer') ?? null;
  if (!person && !business)
    throw new SpError('MISSING_FIELD', 'consumer or businessConsumer is required.', 'consumer');
  if (person && business) throw invalid('businessConsumer', 'cannot be sent together with consumer.');
  const external = str(body, 'externalMerchantId', { max: 255 }) ?? null;
  const externalReference = str(body, 'externalReference', { max: 255 }) ?? null;
  const metadata = str(body, 'merchantMetadata', { max: 255 }) ?? null;
  const references = customReferences(body) ?? null;
  const id = newSpId('paymentSeries');
  const agreementId = newSpId('billingAgreement');
  const { rows } = await sql<SeriesRow>`
    WITH agreement AS (
      INSERT INTO sp_billing_agreements (merchant_id, environment, id, object_type, object_id, status)
      VALUES (${scope.merchantId}, ${scope.environment}, ${agreementId}, 'payment-series', ${id}, 'pending')
    )
    INSERT INTO sp_payment_series (merchant_id, environment, id, customer_account_id, currency, billing_agreement_id,
      billing_address, shipping_address, consumer, business_consumer, external_merchant_id, external_reference,
      merchant_metadata, custom_references, test_clock_id)
    VALUES (${scope.merchantId}, ${scope.environment}, ${id}, ${customerAccountId}, ${currency}, ${agreementId},
      ${JSON.stringify(billingAddress)}::jsonb, ${shippingAddress ? JSON.stringify(shippingAddress) : null}::jsonb,
      ${person ? JSON.stringify(person) : null}::jsonb, ${business ? JSON.stringify(business) : null}::jsonb,
      ${external}, ${externalReference}, ${metadata}, ${references ? JSON.stringify(references) : null}::jsonb, ${testClockId})
    RETURNING *`.execute(tx);
  const row = one(rows);
  await spEvent(tx, {
    ...scope,
    eventType: 'created',
    origin: 'api',
    objectType: 'payment-series',
    objectId: id,
    data: seriesView(row),
    testClockId,
  });
  return row;
}

export async function getSeries(db: Executor, scope: Scope, id: string, lock = false): Promise<SeriesRow> {
  const { rows } = await sql<SeriesRow>`
    SELECT * FROM sp_payment_series
     WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${id}
     ${lock ? sql`FOR UPDATE` : sql``}`.execute(db);
  const row = rows[0];
  if (!row) throw new SpError('NOT_FOUND', `No payment series ${id}.`, 'paymentSeriesId');
  return row;
}

export async function updateSeries(tx: Executor, scope: Scope, id: string, body: Json): Promise<SeriesRow> {
  const current = await getSeries(tx, scope, id, true);
  const billing = address(body, 'billingAddress', { required: false, partial: current.billing_address });
  const shipping = address(body, 'shippingAddress', {
    required: false,
    partial: current.shipping_address ?? {},
  });
  const person = consumer(body, 'consumer', current.consumer ?? {});
  const business = businessConsumer(body, 'businessConsumer', current.business_consumer ?? {});
  const external = nullableStr(body, 'externalMerchantId', 255);
  const externalReference = nullableStr(body, 'externalReference', 255);
  const metadata = nullableStr(body, 'merchantMetadata', 255);
  const references = customReferences(body);
  const keep = <T>(value: T | undefined, old: T) => (value === undefined ? old : value);
  const json = (value: Json | null) => (value ? JSON.stringify(value) : null);
  const { rows } = await sql<SeriesRow>`
    UPDATE sp_payment_series SET
      billing_address = ${JSON.stringify(billing ?? current.billing_address)}::jsonb,
      shipping_address = ${json(keep(shipping, current.shipping_address))}::jsonb,
      consumer = ${json(keep(person, current.consumer))}::jsonb,
      business_consumer = ${json(keep(business, current.business_consumer))}::jsonb,
      external_merchant_id = ${keep(external, current.external_merchant_id)},
      external_reference = ${keep(externalReference, current.external_reference)},
      merchant_metadata = ${keep(metadata, current.merchant_metadata)},
      custom_references = ${json(keep(references, current.custom_references))}::jsonb,
      updated_at = now()
     WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${id}
    RETURNING *`.execute(tx);
  const row = one(rows);
  await spEvent(tx, {
    ...scope,
    eventType: 'updated',
    origin: 'api',
    objectType: 'payment-series',
    objectId: id,
    data: seriesView(row),
    testClockId: row.test_clock_id,
  });
  return row;
}

export function one<T>(rows: readonly T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error('invariant violated: statement returned no row');
  return row;
}
