import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { isSucceeded } from '../../connectors/contracts/outcome.js';
import { transaction, type Db } from '../../core/db/db.js';
import { isAppError } from '../../core/errors/errors.js';
import { enqueue } from '../../core/jobs/jobs.js';
import { parseCurrency, type Currency } from '../../core/money/money.js';
import { createPayment, recordOutcomeIn } from '../../core/payments/service.js';
import type { Clock } from '../../core/time/clock.js';
import { parseMsisdn } from '../carrier-billing/msisdn.js';
import { paydCodes, paydMessages } from './codes.js';
import type { BillPaymentConnectors } from './connectors.js';
import {
  amount,
  identifier,
  integer,
  optionalInteger,
  optionalText,
  PaydFieldError,
  text,
  timestamp,
  type Body,
} from './fields.js';
import {
  clientProduct,
  findByClientRef,
  rulesOf,
  submitContext,
  transactionColumns,
  type ClientRow,
  type ProductRow,
  type TransactionRow,
} from './repo.js';
import { checkLookupReference, termsFor, type Terms } from './terms.js';

/**
 * The Payd purchase APIs behind the dialect routes: Customer Account Validation (seed 002), Transact
 * and Reserve and Transact (accepted at once, finished by `processing.ts`). Each answer is a
 * `PaydAnswer`: the HTTP status and the vendor-shaped body.
 */
export interface BillPaymentDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly keys: {
    readonly token: Buffer;
    readonly signing: Buffer;
    readonly lookup: Buffer;
    /** Seals vend tokens at rest and in events (see seal.ts). */
    readonly seal: Buffer;
  };
  readonly connectors: BillPaymentConnectors;
}

export interface PaydAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Budget for one biller validation call. */
export const validateTimeoutMs = 10_000;
/** The processing job's queue and its attempts (an unknown vend is re-asked until settled). */
export const processQueue = 'bill-payment.process';
export const finalizeQueue = 'bill-payment.finalize';
export const processAttemptsMax = 100;
/**
 * How long a reservation is held before the core expires it: the vendor's funding-source confirmation
 * window (604800 s, clickatell-payd.md §8), so a vend still being settled keeps its hold.
 */
export const reservationTtlSeconds = 604_800;

export const identifierKindNames: Readonly<Record<ProductRow['identifier_kind'], string>> = {
  msisdn: 'an MSISDN',
  meter: 'a meter number',
  account: 'an account number',
  smart_card: 'a smart card number',
};

/** A `4000` in the vendor's shape; `raasTxnRef: null` on Transact answers. */
export function badRequest(message: string, extra: Record<string, unknown> = {}, status = 400): PaydAnswer {
  return { status, body: { responseCode: paydCodes.badRequest, responseMessage: message, ...extra } };
}

export class PaydRejection extends Error {
  constructor(readonly answer: PaydAnswer) {
    super(typeof answer.body.responseMessage === 'string' ? answer.body.responseMessage : 'rejected');
  }
}

function reject(message: string, extra: Record<string, unknown> = {}, status = 400): PaydRejection {
  return new PaydRejection(badRequest(message, extra, status));
}

export function checkClientId(body: Body, client: ClientRow, field = 'clientId'): void {
  const clientId = integer(body, field, 1n, 999_999_999n);
  if (Number(clientId) !== client.client_id) {
    throw new PaydRejection({
      status: 403,
      body: { responseCode: paydCodes.forbidden, responseMessage: paydMessages.clientMismatch },
    });
  }
}

export async function productFor(
  deps: BillPaymentDeps,
  client: ClientRow,
  productId: bigint,
  extra: Record<string, unknown> = {},
): Promise<ProductRow> {
  const product =
    productId <= 9999n ? await clientProduct(deps.db, client.client_id, Number(productId)) : undefined;
  if (!product) throw reject(`productId:${productId} not found`, extra);
  return product;
}

/** The target must be what the product's type needs: an MSISDN for airtime, else the product's pattern. */
export function checkTarget(product: ProductRow, target: string, extra: Record<string, unknown> = {}): void {
  if (product.identifier_kind === 'msisdn') {
    try {
      parseMsisdn(target, 'targetIdentifier');
    } catch (error) {
      if (!isAppError(error)) throw error;
      throw reject(paydMessages.msisdnExpected, extra);
    }
    return;
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(product.identifier_pattern);
  } catch {
    pattern = /^[a-zA-Z0-9]+$/;
  }
  if (!pattern.test(target)) {
    throw reject(
      `Target Identifier expected to be ${identifierKindNames[product.identifier_kind]} based on the product`,
      extra,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Customer Account Validation (seed 002)

export async function validateAccount(
  deps: BillPaymentDeps,
  client: ClientRow,
  body: Body,
): Promise<PaydAnswer> {
  const productId = integer(body, 'productId', 1n, 2_147_483_647n);
  const purchaseAmount = amount(body, 'purchaseAmount');
  const sourceIdentifier = identifier(body, 'sourceIdentifier');
  const targetIdentifier = identifier(body, 'targetIdentifier');
  checkClientId(body, client);
  timestamp(body);
  void sourceIdentifier;
  const product = await productFor(deps, client, productId);
  if (!product.active) throw reject(`productId:${productId} is not active`);
  const rules = rulesOf(product);
  const pricing = rules.pricing;
  if (pricing.type === 'single' && purchaseAmount !== pricing.amount) {
    throw reject(`purchaseAmount :must be ${pricing.amount} for this product`);
  }
  if (pricing.type === 'range') {
    if (purchaseAmount < (pricing.minimumAmount ?? 1n))
      throw reject(`purchaseAmount :must be greater than or equal to ${pricing.minimumAmount}`);
    if (purchaseAmount > (pricing.maximumAmount ?? 0n))
      throw reject(`purchaseAmount :must be less than or equal to ${pricing.maximumAmount}`);
  }
  checkTarget(product, targetIdentifier);
  const biller = deps.connectors.billers.get(product.biller_connector_id);
  if (!biller) return serviceNotFound();
  const currency = parseCurrency(product.currency);
  const outcome = await biller.validateAccount(
    {
      accountNumber: targetIdentifier,
      productCode: product.biller_product_code,
      amount: { amountMinor: purchaseAmount, currency },
    },
    { timeoutMs: validateTimeoutMs },
  );
  if (isSucceeded(outcome)) {
    const account = outcome.data;
    return {
      status: 200,
      body: {
        status: 'online',
        customerInfo: {
          name: account.holderName,
          address: account.customer?.address ?? '',
          phone: account.customer?.phone ?? '',
          district: account.customer?.district ?? '',
        },
        accountInfo: {
          minimumAmount: Number(account.amountMin.amountMinor),
          amount: Number(account.balanceDue?.amountMinor ?? 0n),
          arrears: Number(account.arrears?.amountMinor ?? 0n),
          targetIdentifier,
          accountNumber: account.accountNumber,
          tariff: account.tariff ?? '',
          providerName: product.name,
        },
        responseCode: paydCodes.success,
        message: paydMessages.requestSuccessful,
      },
    };
  }
  if (outcome.status === 'declined') {
    if (outcome.declineReason === 'not_supported') return serviceNotFound();
    return {
      status: 200,
      body: {
        status: 'online',
        responseCode: outcome.rawCode,
        message: outcome.rawMessage ?? outcome.declineReason,
      },
    };
  }
  return {
    status: 200,
    body: { status: 'offline', responseCode: paydCodes.unexpected, message: paydMessages.unexpected },
  };
}

function serviceNotFound(): PaydAnswer {
  return {
    status: 202,
    body: {
      status: 'offline',
      responseCode: paydCodes.serviceNotFound,
      message: paydMessages.serviceNotFound,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Transact and Reserve and Transact

export type SubmitKind = 'transact' | 'reserve_and_transact';

interface Submission {
  readonly clientTxnRef: string;
  readonly productId: bigint;
  readonly purchaseAmount: bigint;
  readonly feeAmount: bigint | undefined;
  readonly sourceIdentifier: string;
  readonly targetIdentifier: string;
  readonly channelId: bigint;
  readonly channelName: string | undefined;
  readonly channelSessionId: string | undefined;
  readonly currencyCode: string | undefined;
  readonly fundingSourceId: bigint | undefined;
  readonly reserveFundsTxnRef: string | undefined;
  readonly accountIdentifier: string | undefined;
  readonly authCode: string | undefined;
  readonly lookupReference: string | undefined;
}

const channelNamePattern = /^[a-zA-Z0-9 ]+$/;
const sessionPattern = /^[a-zA-Z0-9-]+$/;

function readSubmission(body: Body, kind: SubmitKind): Submission {
  const clientTxnRef = text(body, 'clientTxnRef', 64);
  // v1-v3 and the Transact v4 client models send `amount`; v4 documents `purchaseAmount`.
  const purchaseField =
    body.purchaseAmount === undefined && body.amount !== undefined ? 'amount' : 'purchaseAmount';
  const purchaseAmount = amount(body, purchaseField);
  const productId = integer(body, 'productId', 1n, 2_147_483_647n);
  const feeAmount =
    body.feeAmount === undefined || body.feeAmount === null ? undefined : amount(body, 'feeAmount', 0n);
  const sourceIdentifier = identifier(body, 'sourceIdentifier');
  const targetIdentifier = identifier(body, 'targetIdentifier');
  const channelId = integer(body, 'channelId', 0n, 99n);
  const channelName = optionalText(body, 'channelName', 32);
  if (channelName !== undefined && !channelNamePattern.test(channelName))
    throw new PaydFieldError('channelName', 'must be an alphanumeric');
  const channelSessionId = optionalText(body, 'channelSessionId', 64);
  if (channelSessionId !== undefined && !sessionPattern.test(channelSessionId))
    throw new PaydFieldError('channelSessionId', 'must be an alphanumeric');
  const accountIdentifier = optionalText(body, 'accountIdentifier', 64, { alphanumeric: true });
  const authCode = optionalText(body, 'authCode', 64);
  const lookupReference = optionalText(body, 'lookupReference', 64);
  timestamp(body);
  const currencyCode =
    body.currencyCode === undefined || body.currencyCode === null ? undefined : text(body, 'currencyCode', 3);
  const fundingSourceId = optionalInteger(body, 'fundingSourceId', 1n, 2_147_483_647n);
  const reserveRaw = body.reserveFundsTxnRef;
  let reserveFundsTxnRef: string | undefined;
  if (kind === 'transact') {
    if (reserveRaw === undefined || reserveRaw === null || reserveRaw === '')
      throw new PaydFieldError('reserveFundsTxnRef', 'may not be null', paydMessages.reserveRefMandatory);
    reserveFundsTxnRef = text(body, 'reserveFundsTxnRef', 64);
  } else if (reserveRaw !== undefined && reserveRaw !== null) {
    throw new PaydFieldError('reserveFundsTxnRef', 'not expected', paydMessages.reserveRefNotExpected);
  }
  if (currencyCode === undefined)
    throw new PaydFieldError('currencyCode', 'may not be null', paydMessages.currencyMandatory);
  if (fundingSourceId === undefined)
    throw new PaydFieldError('fundingSourceId', 'may not be null', paydMessages.fundingSourceMandatory);
  return {
    clientTxnRef,
    productId,
    purchaseAmount,
    feeAmount,
    sourceIdentifier,
    targetIdentifier,
    channelId,
    channelName,
    channelSessionId,
    currencyCode,
    fundingSourceId,
    reserveFundsTxnRef,
    accountIdentifier,
    authCode,
    lookupReference,
  };
}

/** What a repeat must match: every business field (not the timestamp, which a retry renews). */
function requestHash(kind: SubmitKind, s: Submission): string {
  const canonical = JSON.stringify([
    kind,
    s.productId.toString(),
    s.purchaseAmount.toString(),
    s.feeAmount?.toString() ?? null,
    s.sourceIdentifier,
    s.targetIdentifier,
    s.channelId.toString(),
    s.channelName ?? null,
    s.channelSessionId ?? null,
    s.currencyCode ?? null,
    s.fundingSourceId?.toString() ?? null,
    s.reserveFundsTxnRef ?? null,
    s.accountIdentifier ?? null,
    s.authCode ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** `raasTxnRef`: 24 lowercase alphanumerics, as the vendor's (clickatell-payd.md §5.3). */
export function newRaasTxnRef(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(24);
  let out = '';
  // 256 % 36 = 4: drop the top 4 values of each byte's range for an unbiased draw; redraw those bytes.
  for (let i = 0; out.length < 24; i++) {
    const byte = i < bytes.length ? (bytes[i] ?? 0) : (randomBytes(1)[0] ?? 0);
    if (byte < 252) out += alphabet[byte % 36];
  }
  return out;
}

function accepted(kind: SubmitKind, raasTxnRef: string): PaydAnswer {
  return {
    status: 200,
    body: {
      responseCode: paydCodes.success,
      responseMessage: kind === 'transact' ? paydMessages.processingReserved : paydMessages.processing,
      raasTxnRef,
    },
  };
}

function repeatAnswer(
  kind: SubmitKind,
  existing: Pick<TransactionRow, 'request_hash' | 'kind' | 'raas_txn_ref'>,
  hash: string,
): PaydAnswer {
  if (existing.request_hash === hash && existing.kind === kind) return accepted(kind, existing.raas_txn_ref);
  return {
    status: 200,
    body: { responseCode: paydCodes.duplicate, responseMessage: paydMessages.duplicate, raasTxnRef: null },
  };
}

class DuplicateRace extends Error {}

export async function submit(
  deps: BillPaymentDeps,
  client: ClientRow,
  kind: SubmitKind,
  body: Body,
): Promise<PaydAnswer> {
  const none = { raasTxnRef: null };
  checkClientId(body, client);
  const s = readSubmission(body, kind);
  const hash = requestHash(kind, s);
  const context = await submitContext(deps.db, {
    clientId: client.client_id,
    productId: s.productId,
    fundingSourceId: s.fundingSourceId,
    clientTxnRef: s.clientTxnRef,
  });
  if (context.existing) return repeatAnswer(kind, context.existing, hash);
  const product = context.product;
  if (!product) throw reject(`productId:${s.productId} not found`, none);
  let currency: Currency;
  try {
    currency = parseCurrency(s.currencyCode, 'currencyCode');
  } catch {
    throw reject(paydMessages.currencyInvalid, none);
  }
  if (currency !== product.currency) throw reject(paydMessages.currencyInvalid, none);
  const fundingConnectorId = context.fundingConnectorId;
  if (fundingConnectorId === undefined) throw reject(paydMessages.fundingSourceNotLinked, none);
  checkTarget(product, s.targetIdentifier, none);

  const rules = rulesOf(product);
  let terms: Terms = termsFor(rules, s.purchaseAmount);
  if (s.lookupReference !== undefined) {
    const quoted = checkLookupReference(deps.keys.lookup, s.lookupReference, {
      clientId: client.client_id,
      productId: product.product_id,
      purchaseAmount: s.purchaseAmount,
      nowSeconds: Math.floor(deps.clock.now().getTime() / 1000),
    });
    if (!quoted.ok)
      throw reject(`lookupReference :${quoted.reason === 'expired' ? 'has expired' : 'is not valid'}`, none);
    terms = termsFor({ ...rules, feeFixed: quoted.feeAmount, feeRatePpm: 0 }, s.purchaseAmount);
  }
  if (s.feeAmount === undefined) {
    return {
      status: kind === 'transact' ? 400 : 200,
      body: {
        responseCode: paydCodes.feeInvalid,
        responseMessage: paydMessages.feeMissing,
        raasTxnRef: null,
      },
    };
  }
  if (s.feeAmount !== terms.feeAmount) {
    return {
      status: 200,
      body: {
        responseCode: paydCodes.feeInvalid,
        responseMessage: paydMessages.feeInvalid,
        raasTxnRef: null,
      },
    };
  }

  const raasTxnRef = newRaasTxnRef();
  try {
    await transaction(deps.db, async (tx) => {
      const payment = await createPayment(tx, {
        merchantId: client.merchant_id,
        environment: client.environment,
        product: 'bill-payment',
        kind: 'authorization',
        amount: { amountMinor: terms.reserveAmount, currency },
        payerRef: s.sourceIdentifier,
        connectorId: fundingConnectorId,
        reference: raasTxnRef,
        description: product.name,
        metadata: {
          raas_txn_ref: raasTxnRef,
          client_id: client.client_id,
          client_txn_ref: s.clientTxnRef,
          product_id: product.product_id,
          target_identifier: s.targetIdentifier,
        },
      });
      const inserted = await sql<{ raas_txn_ref: string }>`
        INSERT INTO bp_transactions (raas_txn_ref, merchant_id, environment, client_id, client_txn_ref, request_hash,
          kind, payment_id, product_id, product_type_id, funding_source_id, currency, purchase_minor, fee_minor,
          reserve_minor, vend_minor, settlement_minor, client_share_minor, source_identifier, target_identifier,
          channel_id, channel_name, channel_session_id, reserve_funds_txn_ref, reserve_funds_code)
        VALUES (${raasTxnRef}, ${client.merchant_id}, ${client.environment}, ${client.client_id}, ${s.clientTxnRef},
          ${hash}, ${kind}, ${payment.id}, ${product.product_id}, ${product.product_type_id},
          ${Number(s.fundingSourceId)}, ${currency}, ${terms.purchaseAmount.toString()},
          ${terms.feeAmount.toString()}, ${terms.reserveAmount.toString()}, ${terms.vendAmount.toString()},
          ${terms.settlementAmount.toString()}, ${terms.clientShareAmount.toString()}, ${s.sourceIdentifier},
          ${s.targetIdentifier}, ${Number(s.channelId)}, ${s.channelName ?? null}, ${s.channelSessionId ?? null},
          ${s.reserveFundsTxnRef ?? null}, ${kind === 'transact' ? paydCodes.success : null})
        ON CONFLICT (client_id, client_txn_ref) DO NOTHING
        RETURNING raas_txn_ref`.execute(tx);
      if (inserted.rows.length === 0) throw new DuplicateRace();
      if (kind === 'transact') {
        // The client reserved the funds itself: the reservation is a fact, recorded as the hold.
        await recordOutcomeIn(tx, {
          merchantId: client.merchant_id,
          paymentId: payment.id,
          answer: { status: 'succeeded', rawCode: paydCodes.success, connectorRef: s.reserveFundsTxnRef },
          authorizationTtlSeconds: reservationTtlSeconds,
        });
      }
      await enqueue(tx, {
        queue: processQueue,
        payload: { raasTxnRef },
        merchantId: client.merchant_id,
        environment: client.environment,
        attemptsMax: processAttemptsMax,
        singletonKey: raasTxnRef,
      });
    });
  } catch (error) {
    if (!(error instanceof DuplicateRace)) throw error;
    const winner = await findByClientRef(deps.db, client.client_id, s.clientTxnRef);
    if (!winner) throw new Error('invariant violated: duplicate clientTxnRef without a row');
    return repeatAnswer(kind, winner, hash);
  }
  return accepted(kind, raasTxnRef);
}

export { transactionColumns };
