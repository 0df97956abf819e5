import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { PayerWalletConnector } from '../../connectors/contracts/payer-wallet.js';
import { sandboxConnectorIds } from '../../connectors/sandbox-connectors.js';
import { clockNow } from '../../core/clocks/test-clocks.js';
import { transaction, type Db, type Executor, type Tx } from '../../core/db/db.js';
import type { Environment } from '../../core/db/schema.js';
import { isAppError } from '../../core/errors/errors.js';
import { enqueue } from '../../core/jobs/jobs.js';
import { parseCurrency, type Currency } from '../../core/money/money.js';
import {
  capturePayment,
  createPayment,
  createRefund,
  expirePayment,
  recordOutcomeIn,
  voidPayment,
} from '../../core/payments/service.js';
import { queuePaymentCallback, recordCallback } from './callback.js';
import { MpError, notFound } from './errors.js';
import { major } from './dialect.js';
import {
  agr,
  type AgreementRow,
  type AgreementStatus,
  type Link,
  type OneOffRow,
  type OneOffStatus,
  type PaymentRequestRow,
  type ProviderRow,
  type RefundRow,
} from './schema.js';
import { walletCharge } from './wallet.js';

/** Uncaptured reservations expire after 6 d 23 h 45 min (vendor-apis.md §4.5). */
export const reservationTtlSeconds = 6 * 86_400 + 23 * 3600 + 45 * 60;
export const queues = {
  expireAgreement: 'agreements.expire-agreement',
  expireOneOff: 'agreements.expire-one-off',
  reservationExpired: 'agreements.reservation-expired',
  validatePayments: 'agreements.validate-payments',
  executePayment: 'agreements.execute-payment',
  refund: 'agreements.refund',
  flushCallbacks: 'agreements.flush-callbacks',
} as const;
export const walletConnectorId = sandboxConnectorIds.payerWallet;

export interface Scope {
  merchantId: string;
  environment: Environment;
}

export const agreementCallbackTexts: Readonly<Record<number, [string, string]>> = {
  0: ['Accepted', 'The agreement has been accepted.'],
  40000: ['Rejected', 'Rejected by user.'],
  40001: ['Expired', 'Pending agreement expired.'],
  40002: ['Canceled', 'Canceled by the user.'],
  40003: ['Canceled', 'Canceled by the merchant.'],
};

export const paymentCallbackTexts: Readonly<Record<number, [string, string]>> = {
  0: ['Executed', 'Payment successfully executed.'],
  50000: ['Failed', 'Payment failed to execute during the due date or grace period.'],
  50001: ['Rejected', 'Rejected by user.'],
  50002: ['Declined', 'Declined by merchant.'],
  50003: ['Declined', 'Declined by system: Agreement is not in "Active" state.'],
  50004: [
    'Declined',
    'Declined by system: Another payment is already due on the same date and has the same external id.',
  ],
  50005: ['Declined', 'Declined by system: The agreement was canceled.'],
  50006: ['Declined', 'Declined by system.'],
  50010: ['Declined', 'Declined by system: Agreement does not exist.'],
  50011: ['Declined', 'Declined by system: Due date must be at least 1 day in the future.'],
  50012: ['Declined', 'Declined by system: Due date must be no more than 126 days in the future.'],
};

export const oneOffCallbackTexts: Readonly<Record<number, [string, string]>> = {
  0: ['Reserved', 'Payment successfully reserved.'],
  50001: ['Rejected', 'Rejected by user.'],
  50008: ['Expired', 'Expired by system.'],
  50013: ['Requested', 'Automatic reservation failed. User action is needed.'],
};

export const refundCallbackTexts: Readonly<Record<number, [string, string]>> = {
  0: ['Issued', 'Refund issued.'],
  60001: ['Declined', 'Declined: the payment is already fully refunded.'],
  60002: ['Declined', 'Declined: the sum of refunds exceeds the original payment amount.'],
  60003: ['Declined', 'Declined: the payment was not found.'],
  60004: ['Declined', 'Declined: the payment cannot be refunded.'],
  60005: ['Declined', 'Declined by system.'],
  60006: ['Declined', 'Declined: the payment is older than 90 days.'],
};

// ---------------------------------------------------------------------------------------------------
// Providers

export async function createProvider(
  tx: Executor,
  scope: Scope,
  input: { name: string; paymentStatusCallbackUrl?: string | null; autoReserve?: boolean; homepage?: string },
): Promise<ProviderRow> {
  return agr(tx)
    .insertInto('agr_providers')
    .values({
      id: randomUUID(),
      merchant_id: scope.merchantId,
      environment: scope.environment,
      name: input.name,
      homepage: input.homepage ?? null,
      customer_service: null,
      faq: null,
      portal: null,
      address: null,
      zip_code: null,
      city: null,
      payment_status_callback_url: input.paymentStatusCallbackUrl ?? null,
      callback_auth: null,
      auto_reserve_enabled: input.autoReserve ?? false,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findProvider(db: Executor, scope: Scope, providerId: string): Promise<ProviderRow> {
  const row = await agr(db)
    .selectFrom('agr_providers')
    .selectAll()
    .where('id', '=', providerId)
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export async function listProviders(db: Executor, scope: Scope): Promise<ProviderRow[]> {
  return agr(db)
    .selectFrom('agr_providers')
    .selectAll()
    .where('merchant_id', '=', scope.merchantId)
    .where('environment', '=', scope.environment)
    .orderBy('created_at')
    .limit(100)
    .execute();
}

// ---------------------------------------------------------------------------------------------------
// Agreements

export interface NewAgreement {
  externalId: string | null;
  amountMinor: bigint | null;
  currency: string;
  countryCode: string;
  plan: string;
  description: string | null;
  frequency: number;
  nextPaymentDate: string | null;
  expirationTimeoutMinutes: number;
  mobilePhoneNumber: string | null;
  retentionPeriodHours: number;
  disableNotificationManagement: boolean;
  notificationsOn: boolean;
  links: Link[];
  oneOff: {
    amountMinor: bigint;
    externalId: string;
    description: string;
    expirationTimeoutMinutes: number;
  } | null;
  testClockId: string | null;
}

export async function createAgreement(
  db: Db,
  provider: ProviderRow,
  input: NewAgreement,
): Promise<{ agreement: AgreementRow; oneOff: OneOffRow | undefined }> {
  return transaction(db, async (tx) => {
    const now = await clockNow(tx, input.testClockId);
    const id = randomUUID();
    const agreement = await agr(tx)
      .insertInto('agr_agreements')
      .values({
        id,
        merchant_id: provider.merchant_id,
        environment: provider.environment,
        provider_id: provider.id,
        status: 'Pending',
        external_id: input.externalId,
        amount_minor: input.amountMinor,
        currency: input.currency,
        country_code: input.countryCode,
        plan: input.plan,
        description: input.description,
        frequency: input.frequency,
        next_payment_date: input.nextPaymentDate,
        expiration_timeout_minutes: input.expirationTimeoutMinutes,
        expires_at: new Date(now.getTime() + input.expirationTimeoutMinutes * 60_000),
        mobile_phone_number: input.mobilePhoneNumber,
        retention_period_hours: input.retentionPeriodHours,
        disable_notification_management: input.disableNotificationManagement,
        notifications_on: input.notificationsOn,
        links: JSON.stringify(input.links),
        payer_ref: null,
        status_code: null,
        test_clock_id: input.testClockId,
        date_created: now,
        date_accepted: null,
        date_canceled: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await enqueue(tx, {
      queue: queues.expireAgreement,
      payload: { agreementId: id },
      merchantId: provider.merchant_id,
      environment: provider.environment,
      testClockId: input.testClockId,
      runAt: agreement.expires_at,
    });
    let oneOff: OneOffRow | undefined;
    if (input.oneOff) {
      oneOff = await insertOneOff(tx, agreement, {
        ...input.oneOff,
        autoReserve: false,
        withAgreement: true,
        links: [],
        now,
      });
    }
    return { agreement, oneOff };
  });
}

export async function findAgreement(
  db: Executor,
  provider: ProviderRow,
  agreementId: string,
): Promise<AgreementRow> {
  const row = await agr(db)
    .selectFrom('agr_agreements')
    .selectAll()
    .where('id', '=', agreementId)
    .where('provider_id', '=', provider.id)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export async function listAgreements(
  db: Executor,
  provider: ProviderRow,
  input: { status: AgreementStatus | null; pageSize: number; pageNumber: number },
): Promise<AgreementRow[]> {
  let query = agr(db).selectFrom('agr_agreements').selectAll().where('provider_id', '=', provider.id);
  if (input.status) query = query.where('status', '=', input.status);
  return query
    .orderBy('date_created', 'desc')
    .orderBy('id')
    .limit(input.pageSize)
    .offset((input.pageNumber - 1) * input.pageSize)
    .execute();
}

export const agreementPatchPaths = [
  '/amount',
  '/plan',
  '/description',
  '/next_payment_date',
  '/frequency',
  '/external_id',
  '/success-callback',
  '/cancel-callback',
  '/cancel-redirect',
  '/disable_notification_management',
] as const;

export async function patchAgreement(
  db: Db,
  provider: ProviderRow,
  agreementId: string,
  changes: {
    amountMinor?: bigint;
    plan?: string;
    description?: string | null;
    nextPaymentDate?: string | null;
    frequency?: number;
    externalId?: string | null;
    links?: Record<string, string>;
    disableNotificationManagement?: boolean;
  },
): Promise<void> {
  await transaction(db, async (tx) => {
    const current = await agr(tx)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', agreementId)
      .where('provider_id', '=', provider.id)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw notFound();
    if (current.status !== 'Pending' && current.status !== 'Accepted') {
      throw new MpError(
        'method',
        'AgreementNotActive',
        `The agreement is ${current.status}; it cannot be changed.`,
      );
    }
    let links = current.links;
    for (const [rel, href] of Object.entries(changes.links ?? {})) {
      links = [...links.filter((l) => l.rel !== rel), { rel, href }];
    }
    await agr(tx)
      .updateTable('agr_agreements')
      .set({
        ...(changes.amountMinor !== undefined ? { amount_minor: changes.amountMinor } : {}),
        ...(changes.plan !== undefined ? { plan: changes.plan } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.nextPaymentDate !== undefined ? { next_payment_date: changes.nextPaymentDate } : {}),
        ...(changes.frequency !== undefined ? { frequency: changes.frequency } : {}),
        ...(changes.externalId !== undefined ? { external_id: changes.externalId } : {}),
        ...(changes.disableNotificationManagement !== undefined
          ? { disable_notification_management: changes.disableNotificationManagement }
          : {}),
        links: JSON.stringify(links),
      })
      .where('id', '=', current.id)
      .execute();
  });
}

function linkOf(agreement: AgreementRow, rel: string): string | undefined {
  return agreement.links.find((l) => l.rel === rel)?.href;
}

/** Moves a Pending/Accepted agreement to a terminal state and sends its callback, in the caller's tx. */
async function finishAgreement(
  tx: Executor,
  agreement: AgreementRow,
  from: readonly AgreementStatus[],
  to: AgreementStatus,
  code: number,
  extra: { payerRef?: string } = {},
): Promise<AgreementRow | undefined> {
  const now = await clockNow(tx, agreement.test_clock_id);
  const row = await agr(tx)
    .updateTable('agr_agreements')
    .set({
      status: to,
      status_code: code,
      ...(to === 'Accepted' ? { date_accepted: now } : {}),
      ...(to === 'Canceled' ? { date_canceled: now } : {}),
      ...(extra.payerRef ? { payer_ref: extra.payerRef } : {}),
    })
    .where('id', '=', agreement.id)
    .where('status', 'in', [...from])
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  const url = linkOf(row, code === 0 ? 'success-callback' : 'cancel-callback');
  const [status, text] = agreementCallbackTexts[code] ?? ['Canceled', ''];
  if (url) {
    await recordCallback(tx, {
      merchantId: row.merchant_id,
      environment: row.environment,
      providerId: row.provider_id,
      objectId: row.id,
      url,
      body: {
        agreement_id: row.id,
        external_id: row.external_id,
        status,
        status_text: text,
        status_code: code,
        timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      testClockId: row.test_clock_id,
    });
  }
  return row;
}

/** The merchant cancels (DELETE): Pending or Accepted → Canceled 40003, pending one-offs cancelled. */
export async function cancelAgreementByMerchant(
  db: Db,
  provider: ProviderRow,
  agreementId: string,
): Promise<void> {
  const agreement = await findAgreement(db, provider, agreementId);
  if (agreement.status === 'Canceled') return;
  if (agreement.status !== 'Pending' && agreement.status !== 'Accepted') {
    throw new MpError(
      'precondition',
      'AgreementNotActive',
      `The agreement is ${agreement.status}; it cannot be canceled.`,
    );
  }
  await cancelOneOffsOf(db, agreement);
  await transaction(db, async (tx) => {
    const done = await finishAgreement(tx, agreement, ['Pending', 'Accepted'], 'Canceled', 40003);
    if (done) await declinePendingPayments(tx, done, 50005);
  });
}

/** The payer cancels an active agreement (sandbox simulation): 40002; refused while a reservation is pending. */
export async function cancelAgreementByPayer(db: Db, agreement: AgreementRow): Promise<void> {
  if (agreement.status !== 'Accepted') {
    throw new MpError('precondition', 'AgreementNotActive', `The agreement is ${agreement.status}.`);
  }
  const reserved = await agr(db)
    .selectFrom('agr_one_offs as o')
    .innerJoin('payments as p', (j) => j.onRef('p.id', '=', 'o.payment_id'))
    .select('o.id')
    .where('o.agreement_id', '=', agreement.id)
    .where('p.status', '=', 'authorized')
    .executeTakeFirst();
  if (reserved) {
    throw new MpError(
      'precondition',
      'PendingReservation',
      'The agreement has a pending reservation; only the merchant can cancel it.',
    );
  }
  await transaction(db, async (tx) => {
    const done = await finishAgreement(tx, agreement, ['Accepted'], 'Canceled', 40002);
    if (done) await declinePendingPayments(tx, done, 50005);
  });
}

async function declinePendingPayments(tx: Executor, agreement: AgreementRow, code: number): Promise<void> {
  const rows = await agr(tx)
    .updateTable('agr_payment_requests')
    .set({ status: 'Declined', status_code: code })
    .where('agreement_id', '=', agreement.id)
    .where('status', 'in', ['Requested', 'Pending'])
    .returningAll()
    .execute();
  for (const row of rows) await queuePaymentStatus(tx, row, 'Declined', code);
}

async function cancelOneOffsOf(db: Db, agreement: AgreementRow): Promise<void> {
  const oneOffs = await agr(db)
    .selectFrom('agr_one_offs')
    .selectAll()
    .where('agreement_id', '=', agreement.id)
    .where('status', 'in', ['Requested', 'Reserved'])
    .execute();
  for (const oneOff of oneOffs) {
    try {
      await cancelOneOffRow(db, oneOff);
    } catch (error) {
      if (!(error instanceof MpError)) throw error;
    }
  }
}

export async function expireAgreement(db: Db, agreementId: string): Promise<void> {
  await transaction(db, async (tx) => {
    const agreement = await agr(tx)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', agreementId)
      .executeTakeFirst();
    if (!agreement || agreement.status !== 'Pending') return;
    const now = await clockNow(tx, agreement.test_clock_id);
    if (agreement.expires_at > now) return;
    const done = await finishAgreement(tx, agreement, ['Pending'], 'Expired', 40001);
    if (done) {
      await agr(tx)
        .updateTable('agr_one_offs')
        .set({ status: 'Expired', status_code: 50008 })
        .where('agreement_id', '=', done.id)
        .where('status', '=', 'Requested')
        .where('with_agreement', '=', true)
        .execute();
    }
  });
}

/**
 * The payer accepts (landing page or sandbox simulation). With a one-off, the agreement becomes active
 * only if the one-off is reserved: the reservation is asked of the wallet first.
 */
export async function acceptAgreement(
  db: Db,
  wallet: PayerWalletConnector,
  agreementId: string,
  payerRef: string,
): Promise<AgreementRow> {
  const agreement = await agr(db)
    .selectFrom('agr_agreements')
    .selectAll()
    .where('id', '=', agreementId)
    .executeTakeFirst();
  if (!agreement) throw notFound();
  const now = await clockNow(db, agreement.test_clock_id);
  if (agreement.status !== 'Pending' || agreement.expires_at <= now) {
    throw new MpError(
      'precondition',
      'AgreementNotPending',
      `The agreement is ${agreement.status === 'Pending' ? 'Expired' : agreement.status}.`,
    );
  }
  const oneOff = await agr(db)
    .selectFrom('agr_one_offs')
    .selectAll()
    .where('agreement_id', '=', agreement.id)
    .where('with_agreement', '=', true)
    .where('status', '=', 'Requested')
    .executeTakeFirst();
  if (oneOff) {
    const reserved = await reserveOneOff(db, wallet, agreement, oneOff, payerRef, 'payer');
    if (!reserved) {
      throw new MpError(
        'precondition',
        'ReservationFailed',
        'The one-off payment could not be reserved; the agreement stays pending.',
      );
    }
  }
  const done = await transaction(db, (tx) =>
    finishAgreement(tx, agreement, ['Pending'], 'Accepted', 0, { payerRef }),
  );
  if (!done) throw new MpError('precondition', 'AgreementNotPending', 'The agreement is no longer pending.');
  return done;
}

export async function rejectAgreement(db: Db, agreementId: string): Promise<void> {
  const agreement = await agr(db)
    .selectFrom('agr_agreements')
    .selectAll()
    .where('id', '=', agreementId)
    .executeTakeFirst();
  if (!agreement) throw notFound();
  const done = await transaction(db, async (tx) => {
    const row = await finishAgreement(tx, agreement, ['Pending'], 'Rejected', 40000);
    if (row) {
      await agr(tx)
        .updateTable('agr_one_offs')
        .set({ status: 'Rejected', status_code: 50001 })
        .where('agreement_id', '=', row.id)
        .where('status', '=', 'Requested')
        .execute();
    }
    return row;
  });
  if (!done)
    throw new MpError('precondition', 'AgreementNotPending', `The agreement is ${agreement.status}.`);
}

// ---------------------------------------------------------------------------------------------------
// One-off payments

async function insertOneOff(
  tx: Executor,
  agreement: AgreementRow,
  input: {
    amountMinor: bigint;
    externalId: string;
    description: string;
    expirationTimeoutMinutes: number;
    autoReserve: boolean;
    withAgreement: boolean;
    links: Link[];
    now: Date;
  },
): Promise<OneOffRow> {
  const row = await agr(tx)
    .insertInto('agr_one_offs')
    .values({
      id: randomUUID(),
      merchant_id: agreement.merchant_id,
      environment: agreement.environment,
      provider_id: agreement.provider_id,
      agreement_id: agreement.id,
      status: 'Requested',
      amount_minor: input.amountMinor,
      currency: agreement.currency,
      external_id: input.externalId,
      description: input.description,
      auto_reserve: input.autoReserve,
      with_agreement: input.withAgreement,
      expiration_timeout_minutes: input.expirationTimeoutMinutes,
      expires_at: new Date(input.now.getTime() + input.expirationTimeoutMinutes * 60_000),
      links: JSON.stringify(input.links),
      payment_id: null,
      status_code: null,
      test_clock_id: agreement.test_clock_id,
      created_at: input.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await enqueue(tx, {
    queue: queues.expireOneOff,
    payload: { oneOffId: row.id },
    merchantId: row.merchant_id,
    environment: row.environment,
    testClockId: row.test_clock_id,
    runAt: row.expires_at,
  });
  return row;
}

export async function requestOneOff(
  db: Db,
  wallet: PayerWalletConnector,
  provider: ProviderRow,
  agreementId: string,
  input: {
    amountMinor: bigint;
    externalId: string;
    description: string;
    expirationTimeoutMinutes: number;
    autoReserve: boolean;
    links: Link[];
  },
): Promise<OneOffRow> {
  const agreement = await findAgreement(db, provider, agreementId);
  if (agreement.status !== 'Accepted') {
    throw new MpError(
      'precondition',
      'AgreementNotActive',
      `The agreement is ${agreement.status}; one-off payments need an active agreement.`,
    );
  }
  if (input.autoReserve && !provider.auto_reserve_enabled) {
    throw new MpError(
      'precondition',
      'AutoReserveNotAllowed',
      'auto_reserve is not enabled for this merchant; ask the operator.',
    );
  }
  const oneOff = await transaction(db, async (tx) =>
    insertOneOff(tx, agreement, {
      ...input,
      withAgreement: false,
      now: await clockNow(tx, agreement.test_clock_id),
    }),
  );
  if (input.autoReserve && agreement.payer_ref) {
    const reserved = await reserveOneOff(db, wallet, agreement, oneOff, agreement.payer_ref, 'auto');
    if (!reserved) {
      await transaction(db, async (tx) => {
        await agr(tx)
          .updateTable('agr_one_offs')
          .set({ status_code: 50013 })
          .where('id', '=', oneOff.id)
          .execute();
        await sendOneOffCallback(tx, agreement, { ...oneOff, status_code: 50013 }, 50013);
      });
    }
  }
  return oneOff;
}

/**
 * Reserves a Requested one-off: a core authorization payment (the ledger hold), the wallet's answer, and
 * the Reserved state with its immediate callback in one transaction. Returns false when the wallet declined.
 */
export async function reserveOneOff(
  db: Db,
  wallet: PayerWalletConnector,
  agreement: AgreementRow,
  oneOff: OneOffRow,
  payerRef: string,
  by: 'payer' | 'auto',
): Promise<boolean> {
  const currency = parseCurrency(oneOff.currency);
  let paymentId = oneOff.payment_id;
  if (!paymentId) {
    paymentId = await transaction(db, async (tx) => {
      const locked = await agr(tx)
        .selectFrom('agr_one_offs')
        .select(['status', 'payment_id'])
        .where('id', '=', oneOff.id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (locked.status !== 'Requested') {
        throw new MpError('precondition', 'OneOffNotRequested', `The one-off payment is ${locked.status}.`);
      }
      if (locked.payment_id) return locked.payment_id;
      const payment = await createPayment(tx, {
        merchantId: oneOff.merchant_id,
        environment: oneOff.environment,
        product: 'agreements',
        kind: 'authorization',
        amount: { amountMinor: oneOff.amount_minor, currency },
        payerRef,
        connectorId: walletConnectorId,
        reference: oneOff.id,
        description: oneOff.description,
        testClockId: oneOff.test_clock_id,
        metadata: { agreement_id: agreement.id, one_off_id: oneOff.id, payment_type: 'OneOff' },
      });
      await agr(tx)
        .updateTable('agr_one_offs')
        .set({ payment_id: payment.id })
        .where('id', '=', oneOff.id)
        .execute();
      return payment.id;
    });
  }
  const answer = await walletCharge(wallet, {
    agreementId: agreement.id,
    payerId: payerRef,
    reference: paymentId,
    amountMinor: oneOff.amount_minor,
    currency,
    description: oneOff.description,
    agreementDescription: agreement.plan,
    capture: false,
  });
  if (answer.status === 'unknown') {
    throw new MpError('domain', 'WalletUnavailable', 'The wallet did not answer; try again.');
  }
  return transaction(db, async (tx) => {
    const payment = await recordOutcomeIn(tx, {
      merchantId: oneOff.merchant_id,
      paymentId,
      answer:
        answer.status === 'succeeded'
          ? { status: 'succeeded', rawCode: answer.rawCode }
          : { status: 'declined', rawCode: answer.rawCode, rawMessage: answer.rawMessage },
      authorizationTtlSeconds: reservationTtlSeconds,
    });
    if (payment.status !== 'authorized') {
      // Declined: the one-off stays Requested (the payer may try another card) without its payment.
      await agr(tx)
        .updateTable('agr_one_offs')
        .set({ payment_id: null })
        .where('id', '=', oneOff.id)
        .where('payment_id', '=', paymentId)
        .execute();
      return false;
    }
    const row = await agr(tx)
      .updateTable('agr_one_offs')
      .set({ status: 'Reserved', status_code: 0 })
      .where('id', '=', oneOff.id)
      .where('status', '=', 'Requested')
      .returningAll()
      .executeTakeFirst();
    if (!row) return false;
    await enqueue(tx, {
      queue: queues.reservationExpired,
      payload: { oneOffId: row.id },
      merchantId: row.merchant_id,
      environment: row.environment,
      testClockId: row.test_clock_id,
      ...(payment.expires_at ? { runAt: payment.expires_at } : {}),
    });
    await sendOneOffCallback(tx, agreement, row, 0);
    void by;
    return true;
  });
}

async function sendOneOffCallback(
  tx: Executor,
  agreement: AgreementRow,
  oneOff: OneOffRow,
  code: number,
): Promise<void> {
  const [status, text] = oneOffCallbackTexts[code] ?? ['Requested', ''];
  const item = {
    agreement_id: agreement.id,
    payment_id: oneOff.id,
    amount: major(oneOff.amount_minor),
    currency: oneOff.currency,
    payment_date: (await clockNow(tx, oneOff.test_clock_id)).toISOString().slice(0, 10),
    status,
    status_text: text,
    status_code: code,
    external_id: oneOff.external_id,
    payment_type: 'OneOff',
  };
  if (code === 50008) {
    await queuePaymentCallback(tx, {
      merchantId: oneOff.merchant_id,
      environment: oneOff.environment,
      providerId: oneOff.provider_id,
      item,
      testClockId: oneOff.test_clock_id,
    });
    return;
  }
  const provider = await agr(tx)
    .selectFrom('agr_providers')
    .select('payment_status_callback_url')
    .where('id', '=', oneOff.provider_id)
    .executeTakeFirst();
  if (!provider?.payment_status_callback_url) return;
  await recordCallback(tx, {
    merchantId: oneOff.merchant_id,
    environment: oneOff.environment,
    providerId: oneOff.provider_id,
    objectId: oneOff.id,
    url: provider.payment_status_callback_url,
    body: [item],
    testClockId: oneOff.test_clock_id,
  });
}

export async function rejectOneOff(db: Db, oneOffId: string): Promise<void> {
  await transaction(db, async (tx) => {
    const row = await agr(tx)
      .updateTable('agr_one_offs')
      .set({ status: 'Rejected', status_code: 50001 })
      .where('id', '=', oneOffId)
      .where('status', '=', 'Requested')
      .returningAll()
      .executeTakeFirst();
    if (!row)
      throw new MpError(
        'precondition',
        'OneOffNotRequested',
        'The one-off payment is not awaiting the payer.',
      );
    const agreement = await agr(tx)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', row.agreement_id)
      .executeTakeFirstOrThrow();
    await sendOneOffCallback(tx, agreement, row, 50001);
    if (row.with_agreement && agreement.status === 'Pending') {
      await finishAgreement(tx, agreement, ['Pending'], 'Rejected', 40000);
    }
  });
}

/** The one-off's status: once reserved, the core payment's status is the truth. */
export function oneOffStatus(row: OneOffRow, paymentStatus: string | null): OneOffStatus {
  if (!row.payment_id || paymentStatus === null) return row.status;
  switch (paymentStatus) {
    case 'authorized':
      return 'Reserved';
    case 'captured':
      return 'Captured';
    case 'voided':
      return 'Canceled';
    case 'expired':
      return 'Expired';
    default:
      return row.status;
  }
}

export async function findOneOff(db: Executor, provider: ProviderRow, agreementId: string, oneOffId: string) {
  const row = await agr(db)
    .selectFrom('agr_one_offs as o')
    .leftJoin('payments as p', (j) =>
      j.onRef('p.id', '=', 'o.payment_id').onRef('p.merchant_id', '=', 'o.merchant_id'),
    )
    .selectAll('o')
    .select('p.status as payment_status')
    .where('o.id', '=', oneOffId)
    .where('o.agreement_id', '=', agreementId)
    .where('o.provider_id', '=', provider.id)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export async function listOneOffs(db: Executor, provider: ProviderRow, agreementId: string) {
  return agr(db)
    .selectFrom('agr_one_offs as o')
    .leftJoin('payments as p', (j) =>
      j.onRef('p.id', '=', 'o.payment_id').onRef('p.merchant_id', '=', 'o.merchant_id'),
    )
    .selectAll('o')
    .select('p.status as payment_status')
    .where('o.agreement_id', '=', agreementId)
    .where('o.provider_id', '=', provider.id)
    .orderBy('o.created_at')
    .limit(2000)
    .execute();
}

/** Capture: the full amount, once (204); the core payment's guarded UPDATE decides every race. */
export async function captureOneOff(
  db: Db,
  provider: ProviderRow,
  agreementId: string,
  oneOffId: string,
): Promise<void> {
  const row = await findOneOff(db, provider, agreementId, oneOffId);
  if (!row.payment_id || row.payment_status === 'pending') {
    throw new MpError(
      'domain',
      'OneOffNotReserved',
      `The one-off payment is ${oneOffStatus(row, row.payment_status)}; only a reserved payment can be captured.`,
    );
  }
  try {
    await capturePayment(db, {
      merchantId: row.merchant_id,
      environment: row.environment,
      paymentId: row.payment_id,
    });
  } catch (error) {
    if (isAppError(error)) {
      const status =
        error.code === 'authorization_expired'
          ? 'Expired'
          : oneOffStatus(row, (await paymentStatusOf(db, row.merchant_id, row.payment_id)) ?? null);
      throw new MpError(
        'domain',
        status === 'Captured' ? 'AlreadyCaptured' : 'OneOffNotReserved',
        `The one-off payment is ${status}; it cannot be captured.`,
      );
    }
    throw error;
  }
  await agr(db)
    .updateTable('agr_one_offs')
    .set({ status: 'Captured' })
    .where('id', '=', row.id)
    .where('status', '=', 'Reserved')
    .execute();
}

async function paymentStatusOf(
  db: Executor,
  merchantId: string,
  paymentId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('payments')
    .select('status')
    .where('merchant_id', '=', merchantId)
    .where('id', '=', paymentId)
    .executeTakeFirst();
  return row?.status;
}

export async function cancelOneOff(
  db: Db,
  provider: ProviderRow,
  agreementId: string,
  oneOffId: string,
): Promise<void> {
  const row = await findOneOff(db, provider, agreementId, oneOffId);
  await cancelOneOffRow(db, row);
}

async function cancelOneOffRow(db: Db, row: OneOffRow): Promise<void> {
  if (!row.payment_id) {
    const done = await agr(db)
      .updateTable('agr_one_offs')
      .set({ status: 'Canceled' })
      .where('id', '=', row.id)
      .where('status', '=', 'Requested')
      .where('payment_id', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (done) return;
    const fresh = await agr(db)
      .selectFrom('agr_one_offs')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    if (!fresh.payment_id)
      throw new MpError(
        'method',
        'OneOffNotCancelable',
        `The one-off payment is ${fresh.status}; it cannot be canceled.`,
      );
    return cancelOneOffRow(db, fresh);
  }
  try {
    await voidPayment(db, {
      merchantId: row.merchant_id,
      environment: row.environment,
      paymentId: row.payment_id,
    });
  } catch (error) {
    if (isAppError(error)) {
      const status = oneOffStatus(row, (await paymentStatusOf(db, row.merchant_id, row.payment_id)) ?? null);
      throw new MpError(
        'method',
        'OneOffNotCancelable',
        `The one-off payment is ${status}; it cannot be canceled.`,
      );
    }
    throw error;
  }
  await agr(db)
    .updateTable('agr_one_offs')
    .set({ status: 'Canceled' })
    .where('id', '=', row.id)
    .where('status', '=', 'Reserved')
    .execute();
}

/** Job: a Requested one-off whose time ran out → Expired 50008 (batched callback). */
export async function expireRequestedOneOff(db: Db, oneOffId: string): Promise<void> {
  await transaction(db, async (tx) => {
    const row = await agr(tx)
      .selectFrom('agr_one_offs')
      .selectAll()
      .where('id', '=', oneOffId)
      .executeTakeFirst();
    if (!row || row.status !== 'Requested' || row.payment_id) return;
    if (row.expires_at > (await clockNow(tx, row.test_clock_id))) return;
    const done = await agr(tx)
      .updateTable('agr_one_offs')
      .set({ status: 'Expired', status_code: 50008 })
      .where('id', '=', row.id)
      .where('status', '=', 'Requested')
      .where('payment_id', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!done) return;
    const agreement = await agr(tx)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', row.agreement_id)
      .executeTakeFirstOrThrow();
    await sendOneOffCallback(tx, agreement, done, 50008);
  });
}

/** Job: an uncaptured reservation's time came → the hold is voided as expired, Expired 50008 (batched). */
export async function expireReservation(db: Db, oneOffId: string): Promise<void> {
  const row = await agr(db)
    .selectFrom('agr_one_offs')
    .selectAll()
    .where('id', '=', oneOffId)
    .executeTakeFirst();
  if (!row?.payment_id || row.status !== 'Reserved') return;
  await expirePayment(db, { merchantId: row.merchant_id, paymentId: row.payment_id });
  await transaction(db, async (tx) => {
    const status = await paymentStatusOf(tx, row.merchant_id, row.payment_id ?? '');
    if (status !== 'expired') return;
    const done = await agr(tx)
      .updateTable('agr_one_offs')
      .set({ status: 'Expired', status_code: 50008 })
      .where('id', '=', row.id)
      .where('status', '=', 'Reserved')
      .returningAll()
      .executeTakeFirst();
    if (!done) return;
    const agreement = await agr(tx)
      .selectFrom('agr_agreements')
      .selectAll()
      .where('id', '=', row.agreement_id)
      .executeTakeFirstOrThrow();
    await sendOneOffCallback(tx, agreement, done, 50008);
  });
}

// ---------------------------------------------------------------------------------------------------
// Payment requests

export interface NewPaymentRequest {
  agreementId: string;
  amount: unknown;
  dueDate: string;
  externalId: string;
  description: string;
  gracePeriodDays: number | null;
}

/** Accepted for validation: rows in Requested and one validation job; the answer is 202. */
export async function submitPaymentRequests(
  db: Db,
  provider: ProviderRow,
  items: { input: NewPaymentRequest; amountMinor: bigint }[],
  testClockId: string | null,
): Promise<{ id: string; externalId: string }[]> {
  if (items.length === 0) return [];
  return transaction(db, async (tx) => {
    const now = await clockNow(tx, testClockId);
    const rows = items.map(({ input, amountMinor }) => ({
      id: randomUUID(),
      merchant_id: provider.merchant_id,
      environment: provider.environment,
      provider_id: provider.id,
      agreement_id: input.agreementId,
      status: 'Requested' as const,
      status_code: null,
      amount_minor: amountMinor,
      currency: null,
      due_date: input.dueDate,
      external_id: input.externalId,
      description: input.description,
      grace_period_days: input.gracePeriodDays,
      payment_id: null,
      test_clock_id: testClockId,
      created_at: now,
    }));
    // A duplicate of a live payment (same agreement, due date and external id) cannot be inserted live
    // (unique index): it is stored Declined 50004 straight away and reported in the next batch.
    const json = (list: typeof rows) =>
      JSON.stringify(list, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const insert = (list: typeof rows, status: 'Requested' | 'Declined') =>
      sql<{ id: string }>`
      INSERT INTO agr_payment_requests (id, merchant_id, environment, provider_id, agreement_id, status, status_code,
        amount_minor, due_date, external_id, description, grace_period_days, test_clock_id, created_at)
      SELECT r.id::uuid, r.merchant_id, r.environment, r.provider_id::uuid, r.agreement_id::uuid, ${status},
             ${status === 'Declined' ? 50004 : null}::int, r.amount_minor::bigint, r.due_date, r.external_id,
             r.description, r.grace_period_days::int, r.test_clock_id, r.created_at::timestamptz
        FROM jsonb_to_recordset(${json(list)}::jsonb)
          AS r(id text, merchant_id text, environment text, provider_id text, agreement_id text,
               amount_minor text, due_date text, external_id text, description text, grace_period_days text,
               test_clock_id text, created_at text)
      ON CONFLICT DO NOTHING
      RETURNING id::text AS id`.execute(tx);
    const inserted = new Set((await insert(rows, 'Requested')).rows.map((r) => r.id));
    const duplicates = rows.filter((r) => !inserted.has(r.id));
    if (duplicates.length > 0) {
      await insert(duplicates, 'Declined');
      const declined = await agr(tx)
        .selectFrom('agr_payment_requests')
        .selectAll()
        .where(
          'id',
          'in',
          duplicates.map((d) => d.id),
        )
        .execute();
      for (const row of declined) await queuePaymentStatus(tx, row, 'Declined', 50004);
    }
    await enqueue(tx, {
      queue: queues.validatePayments,
      payload: { ids: [...inserted] },
      merchantId: provider.merchant_id,
      environment: provider.environment,
      testClockId,
    });
    return rows.map((r) => ({ id: r.id, externalId: r.external_id }));
  });
}

function daysBetween(from: Date, dueDate: string): number {
  const today = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  return Math.round((Date.parse(`${dueDate}T00:00:00Z`) - today) / 86_400_000);
}

/** Job: validates submitted payment requests (vendor-apis.md §4.6 codes) and schedules execution. */
export async function validatePaymentRequests(db: Db, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await transaction(db, async (tx) => {
      const row = await agr(tx)
        .selectFrom('agr_payment_requests')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!row || row.status !== 'Requested') return;
      const agreement = await agr(tx)
        .selectFrom('agr_agreements')
        .selectAll()
        .where('id', '=', row.agreement_id)
        .where('provider_id', '=', row.provider_id)
        .executeTakeFirst();
      const now = await clockNow(tx, row.test_clock_id);
      const days = daysBetween(now, row.due_date);
      let code: number | undefined;
      if (!agreement) code = 50010;
      else if (agreement.status !== 'Accepted') code = 50003;
      else if (days < 1) code = 50011;
      else if (days > 126) code = 50012;
      else {
        const max = agreement.currency === 'EUR' ? 200_000n : 30_000_000n;
        if (row.amount_minor > max) code = 50006;
        const duplicate = await agr(tx)
          .selectFrom('agr_payment_requests')
          .select('id')
          .where('agreement_id', '=', row.agreement_id)
          .where('due_date', '=', row.due_date)
          .where('external_id', '=', row.external_id)
          .where('status', 'not in', ['Declined'])
          .where('id', '!=', row.id)
          .executeTakeFirst();
        if (duplicate) code = 50004;
      }
      if (code !== undefined) {
        const declined = await agr(tx)
          .updateTable('agr_payment_requests')
          .set({ status: 'Declined', status_code: code, currency: agreement?.currency ?? null })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await queuePaymentStatus(tx, declined, 'Declined', code);
        return;
      }
      if (!agreement) return;
      await agr(tx)
        .updateTable('agr_payment_requests')
        .set({ status: 'Pending', currency: agreement.currency })
        .where('id', '=', row.id)
        .execute();
      await enqueue(tx, {
        queue: queues.executePayment,
        payload: { paymentRequestId: row.id },
        merchantId: row.merchant_id,
        environment: row.environment,
        testClockId: row.test_clock_id,
        runAt: new Date(`${row.due_date}T00:00:00Z`),
        singletonKey: row.id,
      });
    });
  }
}

async function queuePaymentStatus(
  tx: Executor,
  row: PaymentRequestRow,
  status: string,
  code: number,
): Promise<void> {
  const [, text] = paymentCallbackTexts[code] ?? [status, ''];
  await queuePaymentCallback(tx, {
    merchantId: row.merchant_id,
    environment: row.environment,
    providerId: row.provider_id,
    item: {
      agreement_id: row.agreement_id,
      payment_id: row.id,
      amount: major(row.amount_minor),
      currency: row.currency,
      payment_date: row.due_date,
      status,
      status_text: text,
      status_code: code,
      external_id: row.external_id,
      payment_type: 'Regular',
    },
    testClockId: row.test_clock_id,
  });
}

/** Job: executes a Pending payment on its due date through the payer wallet; Executed / Failed / Rejected. */
export async function executePaymentRequest(db: Db, wallet: PayerWalletConnector, id: string): Promise<void> {
  const row = await agr(db)
    .selectFrom('agr_payment_requests')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || row.status !== 'Pending' || !row.currency) return;
  const agreement = await agr(db)
    .selectFrom('agr_agreements')
    .selectAll()
    .where('id', '=', row.agreement_id)
    .executeTakeFirstOrThrow();
  const currency: Currency = parseCurrency(row.currency);
  let paymentId = row.payment_id;
  if (!paymentId) {
    paymentId = await transaction(db, async (tx) => {
      const locked = await agr(tx)
        .selectFrom('agr_payment_requests')
        .select(['status', 'payment_id'])
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (locked.status !== 'Pending') return null;
      if (locked.payment_id) return locked.payment_id;
      const payment = await createPayment(tx, {
        merchantId: row.merchant_id,
        environment: row.environment,
        product: 'agreements',
        kind: 'sale',
        amount: { amountMinor: row.amount_minor, currency },
        payerRef: agreement.payer_ref ?? '',
        connectorId: walletConnectorId,
        reference: row.id,
        description: row.description,
        testClockId: row.test_clock_id,
        metadata: { agreement_id: row.agreement_id, payment_request_id: row.id, payment_type: 'Regular' },
      });
      await agr(tx)
        .updateTable('agr_payment_requests')
        .set({ payment_id: payment.id })
        .where('id', '=', id)
        .execute();
      return payment.id;
    });
    if (!paymentId) return;
  }
  const answer = await walletCharge(wallet, {
    agreementId: agreement.id,
    payerId: agreement.payer_ref ?? '',
    reference: paymentId,
    amountMinor: row.amount_minor,
    currency,
    description: row.description,
    agreementDescription: agreement.plan,
    capture: true,
  });
  if (answer.status === 'unknown') throw new Error(`wallet answer unknown for ${paymentId}; retried`);
  const finalPaymentId = paymentId;
  await transaction(db, async (tx) => {
    await recordOutcomeIn(tx, {
      merchantId: row.merchant_id,
      paymentId: finalPaymentId,
      answer:
        answer.status === 'succeeded'
          ? { status: 'succeeded', rawCode: answer.rawCode }
          : { status: 'declined', rawCode: answer.rawCode, rawMessage: answer.rawMessage },
    });
    const [status, code] =
      answer.status === 'succeeded'
        ? (['Executed', 0] as const)
        : answer.rejectedByPayer
          ? (['Rejected', 50001] as const)
          : (['Failed', 50000] as const);
    const done = await agr(tx)
      .updateTable('agr_payment_requests')
      .set({ status, status_code: code })
      .where('id', '=', id)
      .where('status', '=', 'Pending')
      .returningAll()
      .executeTakeFirst();
    if (done) await queuePaymentStatus(tx, done, status, code);
  });
}

export async function findPaymentRequest(
  db: Executor,
  provider: ProviderRow,
  agreementId: string,
  id: string,
) {
  const row = await agr(db)
    .selectFrom('agr_payment_requests as r')
    .leftJoin('agr_agreements as a', 'a.id', 'r.agreement_id')
    .selectAll('r')
    .select(['a.external_id as external_agreement_id', 'a.next_payment_date'])
    .where('r.id', '=', id)
    .where('r.agreement_id', '=', agreementId)
    .where('r.provider_id', '=', provider.id)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export async function listPaymentRequests(db: Executor, provider: ProviderRow, agreementId: string) {
  return agr(db)
    .selectFrom('agr_payment_requests as r')
    .leftJoin('agr_agreements as a', 'a.id', 'r.agreement_id')
    .selectAll('r')
    .select(['a.external_id as external_agreement_id', 'a.next_payment_date'])
    .where('r.agreement_id', '=', agreementId)
    .where('r.provider_id', '=', provider.id)
    .orderBy('r.due_date')
    .limit(2000)
    .execute();
}

/** PATCH /amount: only a decrease, only before execution. */
export async function decreasePaymentAmount(
  db: Db,
  provider: ProviderRow,
  agreementId: string,
  id: string,
  amountMinor: bigint,
): Promise<void> {
  const current = await findPaymentRequest(db, provider, agreementId, id);
  const done = await agr(db)
    .updateTable('agr_payment_requests')
    .set({ amount_minor: amountMinor })
    .where('id', '=', current.id)
    .where('status', 'in', ['Requested', 'Pending'])
    .where('payment_id', 'is', null)
    .where('amount_minor', '>', amountMinor)
    .returning('id')
    .executeTakeFirst();
  if (done) return;
  if (amountMinor >= current.amount_minor) {
    throw new MpError(
      'input',
      'AmountNotDecreased',
      `amount: may only be decreased (now ${major(current.amount_minor)}).`,
      'amount',
    );
  }
  throw new MpError(
    'method',
    'PaymentNotPending',
    `The payment is ${current.status}; its amount cannot be changed.`,
  );
}

/** DELETE: the merchant declines a payment before execution → Declined 50002. */
export async function declinePaymentRequest(
  db: Db,
  provider: ProviderRow,
  agreementId: string,
  id: string,
): Promise<void> {
  await findPaymentRequest(db, provider, agreementId, id);
  await transaction(db, async (tx) => {
    const done = await agr(tx)
      .updateTable('agr_payment_requests')
      .set({ status: 'Declined', status_code: 50002 })
      .where('id', '=', id)
      .where('status', 'in', ['Requested', 'Pending'])
      .where('payment_id', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!done) throw notFound();
    await queuePaymentStatus(tx, done, 'Declined', 50002);
  });
}

/** The payer rejects a pending payment (sandbox simulation) → Rejected 50001. */
export async function rejectPaymentRequest(db: Db, id: string): Promise<void> {
  await transaction(db, async (tx) => {
    const done = await agr(tx)
      .updateTable('agr_payment_requests')
      .set({ status: 'Rejected', status_code: 50001 })
      .where('id', '=', id)
      .where('status', '=', 'Pending')
      .where('payment_id', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!done) throw new MpError('precondition', 'PaymentNotPending', 'The payment is not pending.');
    await queuePaymentStatus(tx, done, 'Rejected', 50001);
  });
}

// ---------------------------------------------------------------------------------------------------
// Refunds

/** The captured one-off or executed payment request a refund is for (404 otherwise). */
export async function refundSource(
  db: Executor,
  provider: ProviderRow,
  agreementId: string,
  paymentId: string,
) {
  const oneOff = await agr(db)
    .selectFrom('agr_one_offs')
    .select(['id', 'payment_id', 'currency', 'agreement_id'])
    .where('id', '=', paymentId)
    .where('agreement_id', '=', agreementId)
    .where('provider_id', '=', provider.id)
    .executeTakeFirst();
  if (oneOff) return oneOff;
  const request = await agr(db)
    .selectFrom('agr_payment_requests')
    .select(['id', 'payment_id', 'currency', 'agreement_id'])
    .where('id', '=', paymentId)
    .where('agreement_id', '=', agreementId)
    .where('provider_id', '=', provider.id)
    .executeTakeFirst();
  if (request) return request;
  throw notFound();
}

export async function requestRefund(
  db: Db,
  provider: ProviderRow,
  source: { id: string; payment_id: string | null; currency: string | null; agreement_id: string },
  input: { amountMinor: bigint | null; statusCallbackUrl: string; externalId: string | null },
) {
  return transaction(db, async (tx) => {
    let amount = input.amountMinor;
    if (amount === null) {
      const payment = source.payment_id
        ? await tx
            .selectFrom('payments')
            .select(['captured_minor', 'refunded_minor'])
            .where('merchant_id', '=', provider.merchant_id)
            .where('id', '=', source.payment_id)
            .executeTakeFirst()
        : undefined;
      amount = payment ? payment.captured_minor - payment.refunded_minor : 0n;
    }
    const row = await agr(tx)
      .insertInto('agr_refunds')
      .values({
        id: randomUUID(),
        merchant_id: provider.merchant_id,
        environment: provider.environment,
        provider_id: provider.id,
        agreement_id: source.agreement_id,
        source_id: source.id,
        core_refund_id: null,
        amount_minor: amount > 0n ? amount : 1n,
        currency: source.currency ?? 'DKK',
        status: 'Requested',
        status_code: null,
        external_id: input.externalId,
        status_callback_url: input.statusCallbackUrl,
        full_refund: input.amountMinor === null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await enqueue(tx, {
      queue: queues.refund,
      payload: { refundId: row.id },
      merchantId: provider.merchant_id,
      environment: provider.environment,
    });
    return row;
  });
}

/** Job: issues or declines a refund (6000x) and sends its callback to status_callback_url. */
/**
 * Job: issues or declines a refund (6000x) and sends its callback to status_callback_url. The refunds of
 * one payment are processed in request order (earlier pending ones first), so "the rest" and "exceeds"
 * are decided as the merchant asked for them.
 */
export async function processRefund(db: Db, refundId: string): Promise<void> {
  await transaction(db, async (tx) => {
    // Compared in SQL: timestamptz has microseconds, a JS Date only milliseconds.
    const queue = await agr(tx)
      .selectFrom('agr_refunds')
      .selectAll()
      .where('status', '=', 'Requested')
      .where(
        sql<boolean>`(source_id, created_at) <= ANY (SELECT source_id, created_at FROM agr_refunds WHERE id = ${refundId}::uuid)
        AND source_id = (SELECT source_id FROM agr_refunds WHERE id = ${refundId}::uuid)`,
      )
      .orderBy('created_at')
      .orderBy('id')
      .forUpdate()
      .execute();
    for (const refund of queue) await processOneRefund(tx, refund);
  });
}

async function processOneRefund(tx: Tx, refund: RefundRow): Promise<void> {
  {
    const source = await agr(tx)
      .selectFrom('agr_one_offs')
      .select('payment_id')
      .where('id', '=', refund.source_id)
      .unionAll(
        agr(tx).selectFrom('agr_payment_requests').select('payment_id').where('id', '=', refund.source_id),
      )
      .executeTakeFirst();
    const payment = source?.payment_id
      ? await tx
          .selectFrom('payments')
          .selectAll()
          .where('merchant_id', '=', refund.merchant_id)
          .where('id', '=', source.payment_id)
          .executeTakeFirst()
      : undefined;
    const rest = payment ? payment.captured_minor - payment.refunded_minor : 0n;
    const amountMinor = refund.full_refund && rest > 0n ? rest : refund.amount_minor;
    let code = 0;
    let coreRefundId: string | null = null;
    if (!payment) code = 60003;
    else if (payment.captured_minor === 0n) code = 60004;
    else if (payment.refunded_minor >= payment.captured_minor) code = 60001;
    else if (Date.now() - payment.updated_at.getTime() > 90 * 86_400_000 && payment.test_clock_id === null)
      code = 60006;
    else {
      try {
        await tx.executeQuery(sql`SAVEPOINT agr_refund`.compile(tx));
        const core = await createRefund(tx, {
          merchantId: refund.merchant_id,
          environment: refund.environment,
          paymentId: payment.id,
          amountMinor,
          reference: refund.id,
        });
        await recordOutcomeIn(tx, {
          merchantId: refund.merchant_id,
          paymentId: core.id,
          answer: { status: 'succeeded', rawCode: '0' },
        });
        coreRefundId = core.id;
      } catch (error) {
        if (!isAppError(error)) throw error;
        await tx.executeQuery(sql`ROLLBACK TO SAVEPOINT agr_refund`.compile(tx));
        code = error.code === 'refund_exceeds_captured' ? 60002 : 60004;
      }
    }
    const [status, text] = refundCallbackTexts[code] ?? ['Declined', ''];
    await agr(tx)
      .updateTable('agr_refunds')
      .set({
        status: code === 0 ? 'Issued' : 'Declined',
        status_code: code,
        core_refund_id: coreRefundId,
        amount_minor: amountMinor,
      })
      .where('id', '=', refund.id)
      .execute();
    await recordCallback(tx, {
      merchantId: refund.merchant_id,
      environment: refund.environment,
      providerId: refund.provider_id,
      objectId: refund.id,
      url: refund.status_callback_url,
      body: {
        refund_id: refund.id,
        agreement_id: refund.agreement_id,
        payment_id: refund.source_id,
        amount: major(amountMinor),
        currency: refund.currency,
        status,
        status_text: text,
        status_code: code,
        external_id: refund.external_id,
      },
      testClockId: payment?.test_clock_id ?? null,
    });
  }
}

export async function listRefunds(db: Executor, provider: ProviderRow, sourceId: string) {
  return agr(db)
    .selectFrom('agr_refunds as r')
    .leftJoin('payments as p', (j) =>
      j.onRef('p.id', '=', 'r.core_refund_id').onRef('p.merchant_id', '=', 'r.merchant_id'),
    )
    .selectAll('r')
    .select('p.id as transaction_id')
    .where('r.source_id', '=', sourceId)
    .where('r.provider_id', '=', provider.id)
    .orderBy('r.created_at')
    .limit(1000)
    .execute();
}
