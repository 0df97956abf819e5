import { sql } from 'kysely';
import type { BillerVend } from '../../connectors/contracts/biller.js';
import type { ConnectorOutcome } from '../../connectors/contracts/outcome.js';
import { transaction, type Db, type Executor } from '../../core/db/db.js';
import { isAppError } from '../../core/errors/errors.js';
import { recordEvent } from '../../core/events/events.js';
import { enqueue } from '../../core/jobs/jobs.js';
import { RetryLater } from '../../core/jobs/runner.js';
import { credit, debit, postTransaction, type LedgerEntry } from '../../core/ledger/ledger.js';
import type { Currency } from '../../core/money/money.js';
import { findPayment, type PaymentRow } from '../../core/payments/repo.js';
import { capturePayment, recordOutcomeIn, voidPayment } from '../../core/payments/service.js';
import { paydCodes, resultCodes, resultMessages } from './codes.js';
import { getTransaction, rulesOf, transactionColumns, type ProductRow, type TransactionRow } from './repo.js';
import { finalizeQueue, reservationTtlSeconds, type BillPaymentDeps } from './service.js';

/** What the workers need: the database and the connectors. */
export type ProcessingDeps = Pick<BillPaymentDeps, 'db' | 'connectors'> & { readonly sealKey?: Buffer };
import { sealToken } from './seal.js';
import { pricingViolation } from './terms.js';

/**
 * The asynchronous half of a purchase (the `bill-payment.process` job), crash-safe at every step:
 *
 * 1. pending → (Reserve and Transact) reserve the funds at the bank, reference = the payment id; the
 *    answer is recorded with the payment's hold in one transaction. A lost answer is asked about with
 *    `status()`, never re-sent blindly.
 * 2. vending: `vend_state` goes `none → sending` (committed) before the biller is called with the
 *    reference `<raasTxnRef>-0000`. A worker that finds `sending` (its predecessor died mid-vend) or
 *    `unknown` asks the biller's `status()` first and vends again only if the biller never saw the
 *    reference — so a purchase is vended at most once.
 * 3. finish: capture (success) or void (failure) the payment; then, in one transaction, the state, the
 *    settlement posting, the Transact Result event (delivered by the webhook engine) and the job that
 *    confirms or releases the reservation at the bank.
 */
export const vendTimeoutMs = 30_000;
export const reserveTimeoutMs = 12_000;
export const finalizeTimeoutMs = 12_000;
/** Seconds before an unknown or pending vend or reservation is asked about again. */
export const recheckSeconds = 30;

/**
 * Re-asking slows down: every 30 s for the first 20 attempts, then every 5 minutes, then hourly — the
 * 100 attempts a job may have cover more than two days, past which an operator looks (the vendor's
 * banks escalate after 7 business days).
 */
export function recheckDelaySeconds(attempt: number): number {
  return attempt < 20 ? recheckSeconds : attempt < 50 ? 300 : 3600;
}

export const transactResultEventPrefix = 'bill_payment.transact_result.fs';

export function transactResultEventType(fundingSourceId: number): string {
  return `${transactResultEventPrefix}${fundingSourceId}`;
}

export function vendReference(raasTxnRef: string): string {
  return `${raasTxnRef}-0000`;
}

async function productOf(db: Executor, txn: TransactionRow): Promise<ProductRow | undefined> {
  const { rows } = await sql<ProductRow>`
    SELECT environment, product_id, name, short_description, product_type_id, biller_connector_id,
           biller_product_code, currency, pricing_type, amount_minor::text AS amount_minor,
           minimum_minor::text AS minimum_minor, maximum_minor::text AS maximum_minor,
           increment_minor::text AS increment_minor, fee_fixed_minor::text AS fee_fixed_minor, fee_rate_ppm,
           share_fixed_minor::text AS share_fixed_minor, share_rate_ppm, identifier_kind, identifier_pattern,
           active, created_at, updated_at
      FROM bp_products WHERE environment = ${txn.environment} AND product_id = ${txn.product_id}`.execute(db);
  return rows[0];
}

async function paymentOf(db: Executor, txn: TransactionRow): Promise<PaymentRow> {
  const payment = await findPayment(db, { merchantId: txn.merchant_id }, txn.payment_id);
  if (!payment) throw new Error(`invariant violated: no payment for ${txn.raas_txn_ref}`);
  return payment;
}

export async function processTransaction(
  deps: ProcessingDeps,
  raasTxnRef: string,
  attempt = 1,
): Promise<void> {
  try {
    await process(deps, raasTxnRef);
  } catch (error) {
    if (error instanceof RetryLater && error.retryInSeconds === recheckSeconds) {
      throw new RetryLater(error.message, recheckDelaySeconds(attempt));
    }
    throw error;
  }
}

async function process(deps: ProcessingDeps, raasTxnRef: string): Promise<void> {
  let txn = await getTransaction(deps.db, raasTxnRef);
  if (!txn || txn.state === 'succeeded' || txn.state === 'failed') return;
  const product = await productOf(deps.db, txn);
  if (txn.state === 'pending') {
    const violation = !product
      ? resultCodes.productInactive
      : !product.active
        ? resultCodes.productInactive
        : pricingViolation(rulesOf(product).pricing, BigInt(txn.purchase_minor));
    if (violation) {
      await finishFailed(deps, txn, violation, resultMessages[violation] ?? violation);
      return;
    }
    if (txn.kind === 'reserve_and_transact') {
      const reserved = await reserve(deps, txn);
      if (!reserved) return;
    }
    const moved = await sql<TransactionRow>`
      UPDATE bp_transactions SET state = 'vending', updated_at = now()
       WHERE raas_txn_ref = ${raasTxnRef} AND state = 'pending'
      RETURNING ${transactionColumns}`.execute(deps.db);
    const vending = moved.rows[0] ?? (await getTransaction(deps.db, raasTxnRef));
    if (!vending || vending.state !== 'vending') return;
    txn = vending;
  }
  if (!product) throw new Error(`invariant violated: transaction ${raasTxnRef} has no product`);
  await vend(deps, txn, product);
}

/** Reserves the funds (R&T). True when reserved; false when the purchase was finished as failed. */
async function reserve(deps: ProcessingDeps, txn: TransactionRow): Promise<boolean> {
  const payment = await paymentOf(deps.db, txn);
  if (payment.status === 'authorized') return true;
  if (payment.status === 'failed') {
    await finishFailed(
      deps,
      txn,
      payment.raw_code ?? '2090',
      payment.raw_message ?? 'Unknown error',
      payment.raw_code,
    );
    return false;
  }
  const connectorId = txn.funding_connector_id;
  const bank = connectorId === null ? undefined : deps.connectors.fundingSources.get(connectorId);
  if (!bank) throw new RetryLater(`no funding-source connector ${connectorId ?? '?'}`, recheckSeconds);
  const currency = txn.currency as Currency;
  const money = (minor: string) => ({ amountMinor: BigInt(minor), currency });
  const request = {
    reference: payment.id,
    raasTxnRef: txn.raas_txn_ref,
    clientTxnRef: txn.client_txn_ref,
    productId: txn.product_id,
    productTypeId: txn.product_type_id,
    purchaseAmount: money(txn.purchase_minor),
    reserveAmount: money(txn.reserve_minor),
    feeAmount: money(txn.fee_minor),
    sourceIdentifier: txn.source_identifier,
    targetIdentifier: txn.target_identifier,
  };
  let outcome =
    payment.status === 'unknown'
      ? await bank.status({ reference: payment.id }, { timeoutMs: reserveTimeoutMs })
      : await bank.reserveFunds(request, { timeoutMs: reserveTimeoutMs });
  if (payment.status === 'unknown' && outcome.status === 'not_sent') {
    // The bank never saw it: reserving now with the same reference is safe.
    outcome = await bank.reserveFunds(request, { timeoutMs: reserveTimeoutMs });
  }
  if (outcome.status === 'not_sent') throw new RetryLater('reservation not sent', recheckSeconds);
  const status = outcome.status;
  const reserveRef = status === 'succeeded' ? outcome.data.reserveFundsTxnRef : null;
  await transaction(deps.db, async (tx) => {
    await recordOutcomeIn(tx, {
      merchantId: txn.merchant_id,
      paymentId: payment.id,
      answer: {
        status,
        rawCode: outcome.rawCode,
        rawMessage: outcome.rawMessage,
        connectorRef: reserveRef ?? outcome.connectorReference,
      },
      authorizationTtlSeconds: reservationTtlSeconds,
    });
    if (status === 'succeeded' || status === 'declined') {
      await sql`UPDATE bp_transactions SET reserve_funds_code = ${status === 'succeeded' ? paydCodes.success : outcome.rawCode},
                       reserve_funds_txn_ref = coalesce(${reserveRef}, reserve_funds_txn_ref), updated_at = now()
                 WHERE raas_txn_ref = ${txn.raas_txn_ref}`.execute(tx);
    }
  });
  if (status === 'succeeded') return true;
  if (status === 'declined') {
    const fresh = (await getTransaction(deps.db, txn.raas_txn_ref)) ?? txn;
    await finishFailed(
      deps,
      fresh,
      outcome.rawCode,
      outcome.rawMessage ?? 'Reservation declined',
      outcome.rawCode,
    );
    return false;
  }
  throw new RetryLater(`reservation ${status}`, recheckSeconds);
}

async function vend(deps: ProcessingDeps, txn: TransactionRow, product: ProductRow): Promise<void> {
  if (txn.vend_state === 'done') {
    // The biller's answer was recorded; a predecessor died before finishing: finish from the record.
    if (txn.result_code === resultCodes.success) {
      await finishSucceeded(deps, txn, {
        token: txn.token,
        serialNumber: txn.serial_number,
        receiptNumber: txn.receipt_number,
        units: undefined,
      });
    } else {
      const code = txn.result_code ?? resultCodes.supplierUnable;
      await finishFailed(deps, txn, code, txn.result_message ?? resultMessages[code] ?? code);
    }
    return;
  }
  const biller = deps.connectors.billers.get(product.biller_connector_id);
  if (!biller) throw new RetryLater(`no biller connector ${product.biller_connector_id}`, recheckSeconds);
  const reference = vendReference(txn.raas_txn_ref);
  const request = {
    reference,
    accountNumber: txn.target_identifier,
    productCode: product.biller_product_code,
    amount: { amountMinor: BigInt(txn.vend_minor), currency: txn.currency as Currency },
  };
  let outcome: ConnectorOutcome<BillerVend>;
  if (txn.vend_state === 'none') {
    const claimed =
      await sql`UPDATE bp_transactions SET vend_state = 'sending', vend_attempts = vend_attempts + 1,
                                     updated_at = now()
                               WHERE raas_txn_ref = ${txn.raas_txn_ref} AND state = 'vending' AND vend_state = 'none'`.execute(
        deps.db,
      );
    if (Number(claimed.numAffectedRows ?? 0n) === 0) throw new RetryLater('vend claimed elsewhere', 1);
    outcome = await biller.vend(request, { timeoutMs: vendTimeoutMs });
  } else {
    // A predecessor sent (or may have sent) the vend: ask before anything else.
    outcome = await biller.status({ reference }, { timeoutMs: vendTimeoutMs });
    if (outcome.status === 'not_sent') {
      await sql`UPDATE bp_transactions SET vend_attempts = vend_attempts + 1, vend_state = 'sending', updated_at = now()
                 WHERE raas_txn_ref = ${txn.raas_txn_ref} AND state = 'vending'`.execute(deps.db);
      outcome = await biller.vend(request, { timeoutMs: vendTimeoutMs });
    }
  }
  switch (outcome.status) {
    case 'succeeded': {
      const token = outcome.data.token;
      if (token !== undefined && !deps.sealKey)
        throw new Error('invariant violated: no key to seal the vend token');
      const vended: RecordedVend = {
        token: token === undefined || !deps.sealKey ? null : sealToken(deps.sealKey, txn.raas_txn_ref, token),
        serialNumber: outcome.data.serialNumber ?? null,
        receiptNumber: outcome.data.receiptNumber,
        units: outcome.data.units,
      };
      await recordVend(
        deps,
        txn,
        resultCodes.success,
        resultMessages['0000'] ?? 'Transaction successful',
        vended,
      );
      await finishSucceeded(deps, txn, vended);
      return;
    }
    case 'declined': {
      const code = /^22\d\d$/.test(outcome.rawCode) ? outcome.rawCode : resultCodes.supplierUnable;
      const message = outcome.rawMessage ?? resultMessages[code] ?? code;
      await recordVend(deps, txn, code, message, undefined);
      await finishFailed(deps, txn, code, message);
      return;
    }
    case 'not_sent':
      await sql`UPDATE bp_transactions SET vend_state = 'none', updated_at = now()
                 WHERE raas_txn_ref = ${txn.raas_txn_ref} AND state = 'vending'`.execute(deps.db);
      throw new RetryLater('vend not sent', recheckSeconds);
    default:
      await sql`UPDATE bp_transactions SET vend_state = 'unknown', updated_at = now()
                 WHERE raas_txn_ref = ${txn.raas_txn_ref} AND state = 'vending'`.execute(deps.db);
      throw new RetryLater(`vend ${outcome.status}`, recheckSeconds);
  }
}

/** What the biller vended, as recorded: the token sealed (see seal.ts). */
interface RecordedVend {
  readonly token: string | null;
  readonly serialNumber: string | null;
  readonly receiptNumber: string | null;
  readonly units: string | undefined;
}

/** Keeps the biller's answer before anything else, so finishing never depends on asking it again. */
async function recordVend(
  deps: ProcessingDeps,
  txn: TransactionRow,
  code: string,
  message: string,
  vended: RecordedVend | undefined,
): Promise<void> {
  await sql`UPDATE bp_transactions SET vend_state = 'done', result_code = ${code},
                   result_message = ${message.slice(0, 500)}, token = ${vended?.token ?? null},
                   serial_number = ${vended?.serialNumber ?? null}, receipt_number = ${vended?.receiptNumber ?? null},
                   updated_at = now()
             WHERE raas_txn_ref = ${txn.raas_txn_ref} AND state = 'vending'`.execute(deps.db);
}

async function finishSucceeded(
  deps: ProcessingDeps,
  txn: TransactionRow,
  vended: RecordedVend,
): Promise<void> {
  const share = BigInt(txn.client_share_minor);
  try {
    await capturePayment(deps.db, {
      merchantId: txn.merchant_id,
      environment: txn.environment,
      paymentId: txn.payment_id,
      amountMinor: share,
    });
  } catch (error) {
    if (!(isAppError(error) && error.code === 'hold_already_resolved')) throw error;
  }
  await transaction(deps.db, async (tx) => {
    const { rows } = await sql<{ raas_txn_ref: string }>`
      UPDATE bp_transactions SET state = 'succeeded', vend_state = 'done', result_code = ${resultCodes.success},
             result_message = ${resultMessages['0000'] ?? 'Transaction successful'}, token = ${vended.token},
             serial_number = ${vended.serialNumber}, receipt_number = ${vended.receiptNumber},
             finished_at = now(), updated_at = now()
       WHERE raas_txn_ref = ${txn.raas_txn_ref} AND state = 'vending'
      RETURNING raas_txn_ref`.execute(tx);
    if (rows.length === 0) return;
    const currency = txn.currency as Currency;
    const reserve = BigInt(txn.reserve_minor);
    const fee = BigInt(txn.fee_minor);
    const entries: LedgerEntry[] = [];
    if (reserve - share > 0n) entries.push(debit('connector_receivable', currency, reserve - share));
    if (share > 0n) entries.push(debit('client_share_expense', currency, share));
    entries.push(credit('biller_payable', currency, BigInt(txn.vend_minor)));
    if (fee > 0n) entries.push(credit('fee_revenue', currency, fee));
    await postTransaction(tx, {
      merchantId: txn.merchant_id,
      environment: txn.environment,
      paymentId: txn.payment_id,
      kind: 'bill_payment_settle',
      entries,
    });
    const finished = {
      ...txn,
      state: 'succeeded' as const,
      result_code: resultCodes.success,
      token: vended.token,
    };
    await emitResult(tx, finished, vended);
    if (txn.kind === 'reserve_and_transact') await enqueueFinalize(tx, txn, 'confirm');
  });
}

/**
 * Fails the purchase: the payment is voided (hold released) or recorded as declined; then the state,
 * the Transact Result with `code`, and the release of a reservation made at the bank.
 */
async function finishFailed(
  deps: ProcessingDeps,
  txn: TransactionRow,
  code: string,
  message: string,
  reserveCode?: string | null,
): Promise<void> {
  const payment = await paymentOf(deps.db, txn);
  if (payment.status === 'authorized') {
    try {
      await voidPayment(deps.db, {
        merchantId: txn.merchant_id,
        environment: txn.environment,
        paymentId: txn.payment_id,
      });
    } catch (error) {
      if (!(isAppError(error) && error.code === 'hold_already_resolved')) throw error;
    }
  }
  await transaction(deps.db, async (tx) => {
    if (payment.status === 'pending' || payment.status === 'unknown') {
      await recordOutcomeIn(tx, {
        merchantId: txn.merchant_id,
        paymentId: payment.id,
        answer: { status: 'declined', rawCode: code, rawMessage: message },
      });
    }
    const { rows } = await sql<{ raas_txn_ref: string; reserve_funds_code: string | null }>`
      UPDATE bp_transactions SET state = 'failed', result_code = ${code}, result_message = ${message.slice(0, 500)},
             reserve_funds_code = coalesce(${reserveCode ?? null}, reserve_funds_code),
             vend_state = CASE WHEN vend_state = 'none' THEN 'none' ELSE 'done' END,
             finished_at = now(), updated_at = now()
       WHERE raas_txn_ref = ${txn.raas_txn_ref} AND state IN ('pending', 'vending')
      RETURNING raas_txn_ref, reserve_funds_code`.execute(tx);
    const row = rows[0];
    if (!row) return;
    await emitResult(
      tx,
      { ...txn, state: 'failed', result_code: code, reserve_funds_code: row.reserve_funds_code },
      undefined,
    );
    if (txn.kind === 'reserve_and_transact' && row.reserve_funds_code === paydCodes.success) {
      await enqueueFinalize(tx, txn, 'release');
    }
  });
}

async function enqueueFinalize(
  tx: Executor,
  txn: TransactionRow,
  action: 'confirm' | 'release',
): Promise<void> {
  await enqueue(tx, {
    queue: finalizeQueue,
    payload: { raasTxnRef: txn.raas_txn_ref, action },
    merchantId: txn.merchant_id,
    environment: txn.environment,
    attemptsMax: 50,
    singletonKey: `${txn.raas_txn_ref}:${action}`,
  });
}

/** The Transact Result payload (clickatell-payd.md §6.2), as the client's or bank's URL receives it. */
export function transactResultPayload(txn: TransactionRow, timestamp: Date) {
  return {
    clientShareAmount: Number(txn.client_share_minor),
    clientTxnRef: txn.client_txn_ref,
    feeAmount: Number(txn.fee_minor),
    purchaseAmount: Number(txn.purchase_minor),
    raasTxnRef: txn.raas_txn_ref,
    reserveFundsTxnRef: txn.reserve_funds_txn_ref,
    reserveAmount: Number(txn.reserve_minor),
    responseCode: txn.result_code ?? resultCodes.supplierUnable,
    settlementAmount: Number(txn.settlement_minor),
    timestamp: timestamp.toISOString(),
    token: txn.token,
    vendAmount: Number(txn.vend_minor),
    vendorShareAmount: Number(txn.vend_minor),
  };
}

async function emitResult(
  tx: Executor,
  txn: TransactionRow,
  vended: RecordedVend | undefined,
): Promise<void> {
  await recordEvent(tx, {
    merchantId: txn.merchant_id,
    environment: txn.environment,
    type: transactResultEventType(txn.funding_source_id),
    objectId: txn.raas_txn_ref,
    product: 'bill-payment',
    data: {
      client_id: txn.client_id,
      funding_source_id: txn.funding_source_id,
      signed: txn.signature_required,
      // The token travels sealed; the callback format opens it for the receiver only.
      token_sealed: txn.token,
      payload: {
        ...transactResultPayload({ ...txn, token: null }, new Date()),
        ...(vended?.serialNumber ? { serialNumber: vended.serialNumber } : {}),
        ...(vended?.units ? { units: vended.units } : {}),
      },
    },
  });
}

/** The `bill-payment.finalize` job: confirm or release the reservation at the bank, once. */
export async function finalizeReservation(
  deps: ProcessingDeps,
  raasTxnRef: string,
  action: 'confirm' | 'release',
): Promise<void> {
  const txn = await getTransaction(deps.db, raasTxnRef);
  if (!txn) return;
  const connectorId = txn.funding_connector_id;
  const bank = connectorId === null ? undefined : deps.connectors.fundingSources.get(connectorId);
  if (!bank) throw new RetryLater(`no funding-source connector ${connectorId ?? '?'}`, recheckSeconds);
  const outcome = await bank.finalize(
    { reference: txn.payment_id, action },
    { timeoutMs: finalizeTimeoutMs },
  );
  if (outcome.status === 'succeeded' || outcome.status === 'declined') return;
  throw new RetryLater(`reservation ${action} ${outcome.status}`, recheckSeconds);
}

export type { Db };
