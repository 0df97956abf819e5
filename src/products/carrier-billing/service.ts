import { randomUUID } from 'node:crypto';
import type { CarrierConnector } from '../../connectors/contracts/carrier.js';
import { sql } from 'kysely';
import { transaction, type Db, type Tx } from '../../core/db/db.js';
import { isAppError } from '../../core/errors/errors.js';
import { formatAmount, parseAmount, parseCurrency, type Currency } from '../../core/money/money.js';
import { createPayment, createRefund, recordOutcome, recordOutcomeIn } from '../../core/payments/service.js';
import type { PaymentRow } from '../../core/payments/repo.js';
import type { Secret } from '../../core/secrets/secrets.js';
import { queueSms, type SmsLimits } from '../../core/sms/outbox.js';
import type { Clock } from '../../core/time/clock.js';
import {
  checkSpendLimits,
  detectCarrier,
  getCarrier,
  lockSubscriberSpend,
  type CarrierRow,
} from './carriers.js';
import { carrierDescription, dcbCodes, describe, type DcbCode } from './codes.js';
import { optional, required, type DcbEnvelope, type DcbMethod } from './dialect.js';
import { parseMsisdn, type Msisdn } from './msisdn.js';
import { decryptMx } from './mx.js';
import {
  findOpenPinSession,
  generatePin,
  getPinSession,
  verifyPin,
  type PinLimits,
  type PinSession,
  type VerifyPinResult,
} from './pins.js';
import { findBillByTxid, findProduct, getSettings, merchantContact, refundsOf, type Scope } from './repo.js';
import { confirmationTemplates, merchantMessageTemplates, pinTemplates } from './templates.js';

/**
 * The carrier-billing flows behind the Infomedia methods (seed 000): PIN generation with its SMS, PIN
 * check and bill, bills without PIN, refunds, look-ups. A bill follows STYLE.md §4: the payment is
 * persisted (with the spend-limit check under a per-subscriber lock), the carrier is called outside any
 * transaction with the payment id as reference, and the answer is recorded with its ledger posting.
 */
export interface CarrierBillingDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly pepper: Secret;
  readonly mxKey: Buffer;
  readonly smsLimits: SmsLimits;
  readonly smsSender: string;
  readonly pinLimits?: Partial<PinLimits>;
  /** Carrier connectors by connector id. */
  readonly connectors: ReadonlyMap<string, CarrierConnector>;
}

/** Budget for one carrier call; past it the bill is `unknown` and reconciliation settles it. */
export const carrierCallTimeoutMs = 15_000;
export const merchantMessageLengthMax = 612;

export type DcbResponse = { status: 'Success' | 'Error'; description: string } & Record<string, unknown>;

export function ok(extra: Record<string, unknown> = {}, detail?: string): DcbResponse {
  return { status: 'Success', description: describe(dcbCodes.ok, detail), ...extra };
}

export function fail(code: DcbCode, detail?: string, extra: Record<string, unknown> = {}): DcbResponse {
  return { status: 'Error', description: describe(code, detail), ...extra };
}

/** A business rejection: rendered as an `Error` answer with HTTP 200. */
export class DcbRejection extends Error {
  constructor(readonly response: DcbResponse) {
    super(response.description);
  }
}

function reject(code: DcbCode, detail?: string, extra: Record<string, unknown> = {}): DcbRejection {
  return new DcbRejection(fail(code, detail, extra));
}

export async function runMethod(
  deps: CarrierBillingDeps,
  scope: Scope,
  method: DcbMethod,
  envelope: DcbEnvelope,
): Promise<DcbResponse> {
  try {
    switch (method) {
      case 'pingeneratewithparams':
        return await pinGenerate(deps, scope, envelope);
      case 'sendbillwithpin':
        return await sendBillWithPin(deps, scope, envelope);
      case 'pinvalidatewithparams':
      case 'pinvalidate':
        return await pinValidate(deps, scope, envelope);
      case 'sendbill':
        return await sendBill(deps, scope, envelope);
      case 'refund':
        return await refund(deps, scope, envelope);
      case 'gettransaction':
        return await getTransaction(deps, scope, envelope);
      case 'decryptmx':
        return decryptMxMethod(deps, scope, envelope);
      case 'sendmessagewithcampaign':
        return await sendMessage(deps, scope, envelope);
    }
  } catch (error) {
    if (error instanceof DcbRejection) return error.response;
    if (isAppError(error) && error.status < 500) {
      if (error.code === 'rate_limited') return fail(dcbCodes.smsLimit, error.message);
      return fail(dcbCodes.validation, error.message, error.field ? { field: error.field } : {});
    }
    throw error;
  }
}

interface Purchase {
  product: { productId: string; name: string; description: string };
  msisdn: Msisdn;
  carrier: CarrierRow;
  ported: boolean;
  currency: Currency;
  amountMinor: bigint;
  description: string;
  language: string;
}

async function readProduct(deps: CarrierBillingDeps, scope: Scope, envelope: DcbEnvelope) {
  const raw = required(envelope, 'productid');
  if (!/^\d{1,18}$/.test(raw))
    throw reject(dcbCodes.validation, 'productId must be a number', { field: 'productId' });
  const product = await findProduct(deps.db, scope, BigInt(raw));
  if (!product || !product.enabled) throw reject(dcbCodes.productNotFound, `productId ${raw}`);
  return { productId: raw, name: product.name, description: product.description };
}

async function readPurchase(
  deps: CarrierBillingDeps,
  scope: Scope,
  envelope: DcbEnvelope,
): Promise<Purchase> {
  const product = await readProduct(deps, scope, envelope);
  const { msisdn } = parseMsisdn(required(envelope, 'mx'), 'mx');
  const detected = await detectCarrier(deps.db, {
    environment: scope.environment,
    msisdn,
    mcc: optional(envelope, 'mcc'),
    mnc: optional(envelope, 'mnc'),
  });
  if (!detected) throw reject(dcbCodes.carrierUnsupported, msisdn);
  const carrier = detected.carrier;
  // Real clients send no currency: it is the carrier's. When sent it must be the carrier's.
  const currency = parseCurrency(optional(envelope, 'currency') ?? carrier.currency, 'currency');
  if (currency !== carrier.currency)
    throw reject(dcbCodes.currencyUnsupported, `${currency} on ${carrier.name}`);
  const amountMinor = parseAmount(required(envelope, 'amount'), currency, { field: 'amount' });
  const description = optional(envelope, 'description') ?? (product.description || product.name);
  if (description.length > 255)
    throw reject(dcbCodes.validation, 'description is longer than 255 characters');
  const language = (optional(envelope, 'language') ?? 'en').toLowerCase();
  if (!/^[a-z]{2}(-[a-z0-9]{2,8})?$/.test(language))
    throw reject(dcbCodes.validation, 'language must be like en or en-gb');
  return { product, msisdn, carrier, ported: detected.ported, currency, amountMinor, description, language };
}

async function spendCheck(
  deps: CarrierBillingDeps,
  scope: Scope,
  p: Pick<Purchase, 'carrier' | 'msisdn' | 'amountMinor'>,
  executor = deps.db,
) {
  const over = await checkSpendLimits(executor, {
    environment: scope.environment,
    carrier: p.carrier,
    msisdn: p.msisdn,
    amountMinor: p.amountMinor,
  });
  if (!over) return;
  const code =
    over.limit === 'per_transaction'
      ? dcbCodes.transactionLimit
      : over.limit === 'daily'
        ? dcbCodes.dailyLimit
        : dcbCodes.monthlyLimit;
  throw reject(code);
}

async function pinGenerate(
  deps: CarrierBillingDeps,
  scope: Scope,
  envelope: DcbEnvelope,
): Promise<DcbResponse> {
  const purchase = await readPurchase(deps, scope, envelope);
  await spendCheck(deps, scope, purchase);
  const contact = await merchantContact(deps.db, scope);
  return transaction(deps.db, async (tx) => {
    const generated = await generatePin(tx, {
      merchantId: scope.merchantId,
      environment: scope.environment,
      msisdn: purchase.msisdn,
      productId: purchase.product.productId,
      amountMinor: purchase.amountMinor,
      currency: purchase.currency,
      description: purchase.description,
      language: purchase.language,
      pinLength: purchase.carrier.pin_length,
      pepper: deps.pepper,
      now: deps.clock.now(),
      ...(deps.pinLimits ? { limits: deps.pinLimits } : {}),
    });
    if (!generated.ok) {
      throw generated.reason === 'msisdn_locked'
        ? reject(dcbCodes.msisdnLocked, `until ${generated.lockedUntil.toISOString()}`)
        : reject(
            dcbCodes.tooManyPins,
            generated.reason === 'too_many_pins_today' ? 'daily limit' : '10-minute limit',
          );
    }
    const pin = generated.pin.reveal();
    await queueSms(
      tx,
      {
        merchantId: scope.merchantId,
        environment: scope.environment,
        to: purchase.msisdn,
        sender: deps.smsSender,
        purpose: 'pin',
        language: purchase.language,
        templates: pinTemplates,
        vars: {
          code: pin,
          service: purchase.description,
          merchant: contact.name,
          amount: `${formatAmount(purchase.amountMinor, purchase.currency)} ${purchase.currency}`,
          support: contact.support,
        },
        sandboxData: { code: pin, pin_id: generated.session.id },
      },
      deps.smsLimits,
    );
    return ok({ pinId: generated.session.id });
  });
}

function pinRejection(result: Exclude<VerifyPinResult, { ok: true }>): DcbRejection {
  switch (result.reason) {
    case 'not_found':
      return reject(dcbCodes.pinNotFound);
    case 'pin_invalid':
      return reject(
        dcbCodes.pinInvalid,
        result.attemptsLeft !== undefined ? `${result.attemptsLeft} attempts left` : undefined,
      );
    case 'pin_expired':
      return reject(dcbCodes.pinExpired);
    case 'pin_used':
      return reject(dcbCodes.pinUsed);
    case 'attempts_exceeded':
      return reject(dcbCodes.pinAttemptsExceeded);
    case 'msisdn_locked':
      return reject(
        dcbCodes.msisdnLocked,
        result.lockedUntil ? `until ${result.lockedUntil.toISOString()}` : undefined,
      );
    case 'session_mismatch':
      return reject(dcbCodes.validation, `${result.mismatch ?? 'request'} does not match the PIN request`, {
        field: result.mismatch ?? 'pinId',
      });
  }
}

async function checkPin(deps: CarrierBillingDeps, scope: Scope, envelope: DcbEnvelope): Promise<PinSession> {
  const pin = required(envelope, 'pin');
  if (!/^\d{4,8}$/.test(pin)) throw reject(dcbCodes.pinInvalid);
  const mxRaw = optional(envelope, 'mx');
  const msisdn = mxRaw === undefined ? undefined : parseMsisdn(mxRaw, 'mx').msisdn;
  let pinId = optional(envelope, 'pinid');
  const productId = optional(envelope, 'productid');
  if (pinId === undefined) {
    // Clients that send the MSISDN and PIN without a pinId (vendor-apis.md §1.3a): the open session.
    if (msisdn === undefined || productId === undefined)
      throw reject(dcbCodes.validation, 'pinId is required', { field: 'pinId' });
    const open = await findOpenPinSession(deps.db, { ...scope, msisdn, productId, now: deps.clock.now() });
    if (!open) throw reject(dcbCodes.pinNotFound);
    pinId = open.id;
  }
  // Amount and currency come from the PIN request; when repeated they must match it.
  const currencyRaw = optional(envelope, 'currency');
  const amountRaw = optional(envelope, 'amount');
  const session = await verifyPin(deps.db, {
    merchantId: scope.merchantId,
    environment: scope.environment,
    pinId,
    pin,
    msisdn,
    productId,
    ...(currencyRaw !== undefined ? { currency: parseCurrency(currencyRaw) } : {}),
    ...(amountRaw !== undefined ? { amountMinor: await amountFor(deps, scope, pinId, amountRaw) } : {}),
    pepper: deps.pepper,
    now: deps.clock.now(),
    consume: true,
    ...(deps.pinLimits ? { limits: deps.pinLimits } : {}),
  });
  if (!session.ok) throw pinRejection(session);
  return session.session;
}

async function amountFor(
  deps: CarrierBillingDeps,
  scope: Scope,
  pinId: string,
  raw: string,
): Promise<bigint> {
  const session = await getPinSession(deps.db, { ...scope, pinId });
  if (!session) throw reject(dcbCodes.pinNotFound);
  return parseAmount(raw, parseCurrency(session.currency), { field: 'amount' });
}

async function sendBillWithPin(
  deps: CarrierBillingDeps,
  scope: Scope,
  envelope: DcbEnvelope,
): Promise<DcbResponse> {
  const session = await checkPin(deps, scope, envelope);
  const msisdn = parseMsisdn(session.msisdn).msisdn;
  const carrier = await detectCarrier(deps.db, {
    environment: scope.environment,
    msisdn,
    mcc: optional(envelope, 'mcc'),
    mnc: optional(envelope, 'mnc'),
  });
  if (!carrier) throw reject(dcbCodes.carrierUnsupported, session.msisdn, { pinId: session.id });
  const response = await bill(deps, scope, {
    msisdn,
    carrier: carrier.carrier,
    ported: carrier.ported,
    productId: session.productId,
    amountMinor: session.amountMinor,
    currency: parseCurrency(session.currency),
    description: session.description,
    language: session.language,
    pt: optional(envelope, 'pt'),
    pinId: session.id,
  });
  return { ...response, pinId: session.id };
}

async function pinValidate(
  deps: CarrierBillingDeps,
  scope: Scope,
  envelope: DcbEnvelope,
): Promise<DcbResponse> {
  const session = await checkPin(deps, scope, envelope);
  return ok({ pinId: session.id, mx: session.msisdn });
}

async function sendBill(deps: CarrierBillingDeps, scope: Scope, envelope: DcbEnvelope): Promise<DcbResponse> {
  const settings = await getSettings(deps.db, scope);
  if (!settings.send_bill_allowed)
    throw reject(dcbCodes.notAllowed, 'SendBill needs an operator to allow it');
  const purchase = await readPurchase(deps, scope, envelope);
  return bill(deps, scope, {
    msisdn: purchase.msisdn,
    carrier: purchase.carrier,
    ported: purchase.ported,
    productId: purchase.product.productId,
    amountMinor: purchase.amountMinor,
    currency: purchase.currency,
    description: purchase.description,
    language: purchase.language,
    pt: optional(envelope, 'pt'),
    pinId: null,
  });
}

interface BillInput {
  msisdn: Msisdn;
  carrier: CarrierRow;
  ported: boolean;
  productId: string;
  amountMinor: bigint;
  currency: Currency;
  description: string;
  language: string;
  pt: string | undefined;
  pinId: string | null;
}

async function bill(deps: CarrierBillingDeps, scope: Scope, input: BillInput): Promise<DcbResponse> {
  const connector = deps.connectors.get(input.carrier.connector_id);
  if (!connector) throw reject(dcbCodes.carrierUnsupported, `no connector for ${input.carrier.name}`);
  const txid = randomUUID();
  const conf = (status: 'Success' | 'Error', description: string) => ({
    status,
    description,
    portedMcc: input.ported ? input.carrier.mcc : '',
    portedMnc: input.ported ? input.carrier.mnc : '',
  });
  const payment = await transaction(deps.db, async (tx) => {
    await lockSubscriberSpend(tx, {
      environment: scope.environment,
      carrierId: input.carrier.id,
      msisdn: input.msisdn,
    });
    await spendCheck(deps, scope, input, tx);
    return createPayment(tx, {
      merchantId: scope.merchantId,
      environment: scope.environment,
      product: 'carrier-billing',
      kind: 'sale',
      amount: { amountMinor: input.amountMinor, currency: input.currency },
      payerRef: input.msisdn,
      connectorId: input.carrier.connector_id,
      reference: txid,
      description: input.description,
      metadata: {
        carrier_id: input.carrier.id,
        product_id: input.productId,
        mcc: input.carrier.mcc,
        mnc: input.carrier.mnc,
        pt: input.pt ?? '',
        pin_id: input.pinId,
        language: input.language,
      },
    });
  });
  const outcome = await connector.charge(
    {
      reference: payment.id,
      msisdn: input.msisdn,
      amount: { amountMinor: input.amountMinor, currency: input.currency },
      description: input.description,
    },
    { timeoutMs: carrierCallTimeoutMs },
  );
  // The outcome and, on success, the confirmation SMS commit together.
  const recorded = await transaction(deps.db, async (tx) => {
    const row = await recordOutcomeIn(tx, {
      merchantId: scope.merchantId,
      paymentId: payment.id,
      answer: {
        status: outcome.status,
        rawCode: outcome.rawCode,
        rawMessage: outcome.rawMessage,
        connectorRef: outcome.connectorReference,
      },
    });
    if (row.status === 'succeeded' && input.carrier.confirmation_sms_required) {
      await queueConfirmation(deps, tx, scope, input, row);
    }
    return row;
  });
  const echo = { txid, mx: input.msisdn };
  if (recorded.status === 'succeeded') return ok({ ...echo, conf: conf('Success', describe(dcbCodes.ok)) });
  if (recorded.status === 'pending' || recorded.status === 'unknown') {
    return fail(dcbCodes.pending, undefined, { ...echo, conf: conf('Error', describe(dcbCodes.pending)) });
  }
  const description = carrierDescription(recorded.raw_code ?? '01', recorded.raw_message);
  return { status: 'Error', description, ...echo, conf: conf('Error', description) };
}

/**
 * The post-billing SMS, in the transaction that records the outcome. A limit reached here does not undo
 * the bill: the message alone is rolled back to a savepoint.
 */
async function queueConfirmation(
  deps: CarrierBillingDeps,
  tx: Tx,
  scope: Scope,
  input: BillInput,
  payment: PaymentRow,
): Promise<void> {
  const contact = await merchantContact(tx, scope);
  await sql`SAVEPOINT confirmation_sms`.execute(tx);
  try {
    await queueSms(
      tx,
      {
        merchantId: scope.merchantId,
        environment: scope.environment,
        to: input.msisdn,
        sender: deps.smsSender,
        purpose: 'payment_confirmation',
        language: input.language,
        templates: confirmationTemplates,
        vars: {
          amount: `${formatAmount(payment.amount_minor, input.currency)} ${input.currency}`,
          merchant: contact.name,
          service: input.description,
          support: contact.support,
        },
        sandboxData: { txid: payment.reference ?? '' },
      },
      deps.smsLimits,
    );
  } catch (error) {
    if (!(isAppError(error) && error.code === 'rate_limited')) throw error;
    await sql`ROLLBACK TO SAVEPOINT confirmation_sms`.execute(tx);
  }
}

async function refund(deps: CarrierBillingDeps, scope: Scope, envelope: DcbEnvelope): Promise<DcbResponse> {
  const txid = required(envelope, 'txid');
  const original = await findBillByTxid(deps.db, scope, txid);
  if (!original) throw reject(dcbCodes.transactionNotFound, txid);
  const carrier = await getCarrier(deps.db, metadataText(original.metadata.carrier_id));
  if (!carrier.refunds_supported) throw reject(dcbCodes.refundNotSupported, carrier.name, { txid });
  const currency = parseCurrency(original.currency);
  const amountRaw = optional(envelope, 'amount');
  // No amount: whatever is left to refund (the whole bill, or the rest after partial refunds).
  const remaining = original.captured_minor - original.refunded_minor;
  if (amountRaw === undefined && remaining <= 0n) {
    throw reject(
      original.captured_minor === 0n ? dcbCodes.notRefundable : dcbCodes.refundExceeds,
      undefined,
      { txid },
    );
  }
  const amountMinor =
    amountRaw === undefined ? remaining : parseAmount(amountRaw, currency, { field: 'amount' });
  if (amountMinor !== original.captured_minor && !carrier.partial_refunds_supported) {
    throw reject(dcbCodes.refundNotSupported, 'partial refunds are not supported by this carrier', { txid });
  }
  const connector = deps.connectors.get(original.connector_id);
  if (!connector) throw reject(dcbCodes.carrierUnsupported, `no connector for ${carrier.name}`);
  const refundTxid = randomUUID();
  let refundRow: PaymentRow;
  try {
    refundRow = await transaction(deps.db, (tx) =>
      createRefund(tx, {
        merchantId: scope.merchantId,
        environment: scope.environment,
        paymentId: original.id,
        amountMinor,
        reference: refundTxid,
        description: original.description ?? undefined,
      }),
    );
  } catch (error) {
    if (isAppError(error) && error.code === 'refund_exceeds_captured')
      throw reject(dcbCodes.refundExceeds, error.message, { txid });
    if (isAppError(error) && error.code === 'payment_not_refundable')
      throw reject(dcbCodes.notRefundable, undefined, { txid });
    throw error;
  }
  await deps.db
    .updateTable('payments')
    .set({ metadata: JSON.stringify({ ...original.metadata, charge_txid: txid }) })
    .where('merchant_id', '=', scope.merchantId)
    .where('id', '=', refundRow.id)
    .execute();
  const outcome = await connector.refund(
    {
      reference: refundRow.id,
      chargeReference: original.id,
      amount: { amountMinor: refundRow.amount_minor, currency },
    },
    { timeoutMs: carrierCallTimeoutMs },
  );
  const recorded = await recordOutcome(deps.db, {
    merchantId: scope.merchantId,
    paymentId: refundRow.id,
    answer: {
      status: outcome.status,
      rawCode: outcome.rawCode,
      rawMessage: outcome.rawMessage,
      connectorRef: outcome.connectorReference,
    },
  });
  const echo = { txid, refundTxid, refundAmount: formatAmount(refundRow.amount_minor, currency), currency };
  if (recorded.status === 'succeeded') return ok(echo);
  if (recorded.status === 'pending' || recorded.status === 'unknown')
    return fail(dcbCodes.pending, undefined, echo);
  return {
    status: 'Error',
    description: carrierDescription(recorded.raw_code ?? '01', recorded.raw_message),
    ...echo,
  };
}

async function getTransaction(
  deps: CarrierBillingDeps,
  scope: Scope,
  envelope: DcbEnvelope,
): Promise<DcbResponse> {
  const txid = required(envelope, 'txid');
  const original = await findBillByTxid(deps.db, scope, txid);
  if (!original) throw reject(dcbCodes.transactionNotFound, txid);
  const currency = parseCurrency(original.currency);
  const refunds = await refundsOf(deps.db, scope.merchantId, original.id);
  const state = original.status === 'unknown' ? 'pending' : original.status;
  return ok({
    txid,
    mx: original.payer_ref,
    productId: metadataText(original.metadata.product_id),
    amount: formatAmount(original.amount_minor, currency),
    currency,
    transactionStatus: original.raw_code ?? '',
    state,
    refundedAmount: formatAmount(original.refunded_minor, currency),
    refunds: refunds.map((r) => ({
      txid: r.reference,
      amount: formatAmount(r.amount_minor, currency),
      state: r.status === 'unknown' ? 'pending' : r.status,
      createdAt: r.created_at.toISOString(),
    })),
    createdAt: original.created_at.toISOString(),
  });
}

function decryptMxMethod(deps: CarrierBillingDeps, scope: Scope, envelope: DcbEnvelope): DcbResponse {
  const mx = required(envelope, 'mx');
  const msisdn = decryptMx(deps.mxKey, scope.merchantId, mx);
  if (!msisdn) throw reject(dcbCodes.validation, 'mx cannot be decrypted by this account', { field: 'mx' });
  return ok({ msisdn, mx });
}

async function sendMessage(
  deps: CarrierBillingDeps,
  scope: Scope,
  envelope: DcbEnvelope,
): Promise<DcbResponse> {
  const { msisdn } = parseMsisdn(required(envelope, 'mx'), 'mx');
  const text = required(envelope, 'text');
  if (text.length > merchantMessageLengthMax)
    throw reject(dcbCodes.validation, `text is longer than ${merchantMessageLengthMax}`, { field: 'text' });
  const row = await transaction(deps.db, (tx) =>
    queueSms(
      tx,
      {
        merchantId: scope.merchantId,
        environment: scope.environment,
        to: msisdn,
        sender: deps.smsSender,
        purpose: 'merchant_message',
        language: 'en',
        templates: merchantMessageTemplates,
        vars: { text },
      },
      deps.smsLimits,
    ),
  );
  return ok({ messageId: row.id });
}

function metadataText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
