import { sql } from 'kysely';
import { DateTime } from 'luxon';
import type { CardAcquirerConnector } from '../../connectors/contracts/card-acquirer.js';
import type { ConnectorOutcome } from '../../connectors/contracts/outcome.js';
import { simulatorCardToken } from '../../connectors/card-acquirer/simulator/magic-values.js';
import { transaction, type Db, type Executor } from '../../core/db/db.js';
import { money, type Currency } from '../../core/money/money.js';
import type { StoredCard, Vault } from '../../core/vault/vault.js';
import { newSpId } from './dialect.js';
import { spEvent } from './events.js';
import { onResume, scheduleNextCycle, subscriptionTerms } from './billing.js';
import { firstCycleAtOrAfter } from './schedule.js';
import {
  brandName,
  getSeries,
  getSubscription,
  nowFor,
  one,
  seriesView,
  shortCardNumber,
  subscriptionView,
  type Scope,
  type SubscriptionRow,
} from './objects.js';

/**
 * The widget's server side (README.md "Widget"): card checks, verification with the acquirer (a
 * zero-amount authorization that stores the card for merchant-initiated charges, with a 3-D Secure
 * challenge when the issuer asks), the vault, and the billing agreement.
 */
export type ObjectType = 'subscription' | 'payment-series';

/** Widget error codes (`errorHandler(code, message)`), README.md "Widget error codes". */
export const widgetErrorCodes = {
  config: 'ERR_CONFIG',
  invalidInput: 'ERROR_INVALID_INPUT',
  declined: 'ERROR_DECLINED',
  authenticationFailed: 'ERROR_AUTHENTICATION_FAILED',
  unavailable: 'ERROR_UNAVAILABLE',
} as const;
export type WidgetErrorCode = (typeof widgetErrorCodes)[keyof typeof widgetErrorCodes];

export class WidgetError extends Error {
  constructor(
    readonly code: WidgetErrorCode,
    message: string,
    readonly field: string | null = null,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface CardDeps {
  readonly db: Db;
  readonly vault: Vault;
  readonly acquirer: CardAcquirerConnector;
  readonly now: () => Date;
  /** A vault key comes from configuration (required to store production cards). */
  readonly productionVault: boolean;
}

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Brand by number range (README.md "Test cards" lists the ranges). */
export function brandOf(digits: string): 'visa' | 'mastercard' | 'amex' | undefined {
  if (/^4/.test(digits) && [13, 16, 19].includes(digits.length)) return 'visa';
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  if (digits.length === 16 && ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)))
    return 'mastercard';
  if (digits.length === 15 && (two === 34 || two === 37)) return 'amex';
  return undefined;
}

export interface CardInput {
  number: unknown;
  expiryMonth: unknown;
  expiryYear: unknown;
  cvc: unknown;
}

export interface CheckedCard {
  pan: string;
  brand: 'visa' | 'mastercard' | 'amex';
  expMonth: number;
  expYear: number;
}

/** The card checks the iframe also makes as the customer types; the server makes them again. */
export function checkCard(input: CardInput, now: Date): CheckedCard {
  const pan = typeof input.number === 'string' ? input.number.replace(/[\s-]/g, '') : '';
  if (!/^[0-9]{12,19}$/.test(pan) || !luhn(pan)) {
    throw new WidgetError(widgetErrorCodes.invalidInput, 'The card number is not valid.', 'number');
  }
  const brand = brandOf(pan);
  if (!brand)
    throw new WidgetError(
      widgetErrorCodes.invalidInput,
      'Only Visa, Mastercard and American Express are accepted.',
      'number',
    );
  const month = Number(input.expiryMonth);
  let year = Number(input.expiryYear);
  if (!Number.isInteger(month) || month < 1 || month > 12) {
    throw new WidgetError(widgetErrorCodes.invalidInput, 'The expiry month is not valid.', 'expiryMonth');
  }
  if (!Number.isInteger(year) || year < 0 || year > 2200) {
    throw new WidgetError(widgetErrorCodes.invalidInput, 'The expiry year is not valid.', 'expiryYear');
  }
  if (year < 100) year += 2000;
  const today = DateTime.fromJSDate(now, { zone: 'utc' });
  if (year < today.year || (year === today.year && month < today.month)) {
    throw new WidgetError(widgetErrorCodes.invalidInput, 'The card has expired.', 'expiryYear');
  }
  if (year > today.year + 20)
    throw new WidgetError(widgetErrorCodes.invalidInput, 'The expiry year is too far ahead.', 'expiryYear');
  const cvc = typeof input.cvc === 'string' ? input.cvc : '';
  if (!(brand === 'amex' ? /^[0-9]{4}$/ : /^[0-9]{3}$/).test(cvc)) {
    throw new WidgetError(
      widgetErrorCodes.invalidInput,
      `The security code has ${brand === 'amex' ? 4 : 3} digits.`,
      'cvc',
    );
  }
  return { pan, brand, expMonth: month, expYear: year };
}

interface ObjectInfo {
  customerAccountId: string;
  currency: string;
  testClockId: string | null;
}

export async function widgetObject(
  db: Executor,
  scope: Scope,
  objectType: ObjectType,
  objectId: string,
): Promise<ObjectInfo> {
  try {
    if (objectType === 'subscription') {
      const sub = await getSubscription(db, scope, objectId);
      if (sub.status === 'canceled' || sub.status === 'finished') {
        throw new WidgetError(widgetErrorCodes.config, `The subscription is ${sub.status}.`, 'objectId');
      }
      return {
        customerAccountId: sub.customer_account_id,
        currency: sub.currency,
        testClockId: sub.test_clock_id,
      };
    }
    const series = await getSeries(db, scope, objectId);
    if (series.deleted_at)
      throw new WidgetError(widgetErrorCodes.config, 'The payment series is deleted.', 'objectId');
    return {
      customerAccountId: series.customer_account_id,
      currency: series.currency,
      testClockId: series.test_clock_id,
    };
  } catch (error) {
    if (error instanceof WidgetError) throw error;
    throw new WidgetError(widgetErrorCodes.config, `No ${objectType} ${objectId}.`, 'objectId');
  }
}

export interface StoredResult {
  storedPaymentOptionReference: string;
  billingAgreementId: string;
  billingAgreementName: string | null;
  shortCardNumber: string | null;
  objectId: string;
  objectType: ObjectType;
}

export type StoreOutcome =
  { kind: 'stored'; result: StoredResult } | { kind: 'challenge'; verificationId: string };

/** Stores a new card: checks, vault, zero-amount verification; a challenge when the issuer asks for one. */
export async function storeNewCard(
  deps: CardDeps,
  scope: Scope,
  objectType: ObjectType,
  objectId: string,
  input: CardInput,
): Promise<StoreOutcome> {
  const object = await widgetObject(deps.db, scope, objectType, objectId);
  const now = await nowFor(deps.db, object.testClockId, deps.now);
  const checked = checkCard(input, now);
  if (scope.environment === 'production' && !deps.productionVault) {
    throw new WidgetError(
      widgetErrorCodes.unavailable,
      'Cards cannot be stored: the vault master key is not configured.',
      null,
      503,
    );
  }
  const card = await deps.vault.storeCard(deps.db, scope, {
    customerAccountId: object.customerAccountId,
    pan: checked.pan,
    brand: checked.brand,
    expMonth: checked.expMonth,
    expYear: checked.expYear,
    connectorToken: simulatorCardToken(checked.pan),
  });
  const verificationId = newSpId('verification');
  let outcome: ConnectorOutcome<{ networkTransactionId: string }>;
  try {
    outcome = await deps.acquirer.authorize(
      {
        reference: verificationId,
        cardToken: card.connectorToken,
        amount: money(0n, object.currency as Currency),
        captureMode: 'manual',
        storeForMerchantInitiated: true,
      },
      { timeoutMs: 30_000 },
    );
    if (outcome.status === 'unknown')
      outcome = (await deps.acquirer.status(
        { reference: verificationId },
        { timeoutMs: 30_000 },
      )) as ConnectorOutcome<{ networkTransactionId: string }>;
  } catch {
    throw new WidgetError(
      widgetErrorCodes.unavailable,
      'The card could not be verified now; try again.',
      null,
      503,
    );
  }
  if (outcome.status === 'pending') {
    await sql`INSERT INTO sp_verifications (merchant_id, environment, id, object_type, object_id, card_id, status)
              VALUES (${scope.merchantId}, ${scope.environment}, ${verificationId}, ${objectType}, ${objectId}, ${card.id}, 'challenge')`.execute(
      deps.db,
    );
    return { kind: 'challenge', verificationId };
  }
  return {
    kind: 'stored',
    result: await finishVerification(deps, scope, objectType, objectId, card, outcome),
  };
}

async function finishVerification(
  deps: CardDeps,
  scope: Scope,
  objectType: ObjectType,
  objectId: string,
  card: StoredCard,
  outcome: ConnectorOutcome<unknown>,
  afterChallenge = false,
): Promise<StoredResult> {
  if (outcome.status === 'succeeded') {
    const data = outcome.data as { networkTransactionId?: string } | null;
    const ntid = data?.networkTransactionId ?? card.networkTransactionId;
    if (!ntid)
      throw new WidgetError(
        widgetErrorCodes.unavailable,
        'The acquirer gave no network transaction id.',
        null,
        503,
      );
    return transaction(deps.db, async (tx) => {
      await deps.vault.setNetworkTransactionId(tx, scope, card.id, ntid);
      return activateAgreement(
        tx,
        scope,
        objectType,
        objectId,
        { ...card, networkTransactionId: ntid },
        deps.now,
      );
    });
  }
  if (outcome.status === 'declined') {
    if (afterChallenge)
      throw new WidgetError(
        widgetErrorCodes.authenticationFailed,
        'The card holder could not be authenticated.',
        null,
        402,
      );
    if (outcome.declineReason === 'expired_card')
      throw new WidgetError(widgetErrorCodes.declined, 'The card has expired.', 'expiryYear', 402);
    throw new WidgetError(widgetErrorCodes.declined, 'The card was declined.', 'number', 402);
  }
  throw new WidgetError(
    widgetErrorCodes.unavailable,
    'The card could not be verified now; try again.',
    null,
    503,
  );
}

/** The customer finished the 3-D Secure challenge in the iframe: the acquirer says how it went. */
export async function completeChallenge(
  deps: CardDeps,
  scope: Scope,
  verificationId: string,
): Promise<StoredResult> {
  const { rows } = await sql<{ object_type: ObjectType; object_id: string; card_id: string }>`
    UPDATE sp_verifications SET status = 'failed'
     WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${verificationId}
       AND status = 'challenge'
    RETURNING object_type, object_id, card_id`.execute(deps.db);
  const verification = rows[0];
  if (!verification)
    throw new WidgetError(widgetErrorCodes.config, 'No such authentication in progress.', 'verificationId');
  const card = await deps.vault.getCard(deps.db, scope, verification.card_id);
  if (!card) throw new WidgetError(widgetErrorCodes.config, 'No such card.', 'verificationId');
  const outcome = await deps.acquirer.status({ reference: verificationId }, { timeoutMs: 30_000 });
  const result = await finishVerification(
    deps,
    scope,
    verification.object_type,
    verification.object_id,
    card,
    outcome,
    true,
  );
  await sql`UPDATE sp_verifications SET status = 'succeeded' WHERE merchant_id = ${scope.merchantId} AND id = ${verificationId}`.execute(
    deps.db,
  );
  return result;
}

/** The customer picked one of their stored cards. */
export async function useStoredCard(
  deps: CardDeps,
  scope: Scope,
  objectType: ObjectType,
  objectId: string,
  cardId: unknown,
): Promise<StoredResult> {
  const object = await widgetObject(deps.db, scope, objectType, objectId);
  const card =
    typeof cardId === 'string' && /^[0-9a-f]{32}$/.test(cardId)
      ? await deps.vault.getCard(deps.db, scope, cardId)
      : undefined;
  if (!card || card.customerAccountId !== object.customerAccountId || !card.networkTransactionId) {
    throw new WidgetError(
      widgetErrorCodes.invalidInput,
      'No such stored payment option.',
      'storedPaymentOptionReference',
    );
  }
  const now = await nowFor(deps.db, object.testClockId, deps.now);
  if (Date.UTC(card.expYear, card.expMonth, 1) <= now.getTime()) {
    throw new WidgetError(
      widgetErrorCodes.invalidInput,
      'The stored card has expired.',
      'storedPaymentOptionReference',
    );
  }
  return transaction(deps.db, (tx) => activateAgreement(tx, scope, objectType, objectId, card, deps.now));
}

/**
 * Makes `card` the object's payment option: the pending agreement becomes active, or (the card changes)
 * the active one is `replaced` by a new active agreement. A `created` subscription becomes `active` and
 * its first billing cycle is scheduled.
 */
async function activateAgreement(
  tx: Executor,
  scope: Scope,
  objectType: ObjectType,
  objectId: string,
  card: StoredCard,
  realNow: () => Date,
): Promise<StoredResult> {
  const current =
    objectType === 'subscription'
      ? (await getSubscription(tx, scope, objectId, true)).billing_agreement_id
      : (await getSeries(tx, scope, objectId, true)).billing_agreement_id;
  const { rows: agreements } = await sql<{ id: string; status: string; card_id: string | null }>`
    SELECT id, status, card_id FROM sp_billing_agreements
     WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${current} FOR UPDATE`.execute(
    tx,
  );
  const agreement = agreements[0];
  let agreementId: string;
  if (agreement?.status === 'pending') {
    agreementId = agreement.id;
    await sql`UPDATE sp_billing_agreements SET status = 'active', card_id = ${card.id}, updated_at = now()
               WHERE merchant_id = ${scope.merchantId} AND id = ${agreement.id}`.execute(tx);
  } else if (agreement?.status === 'active' && agreement.card_id === card.id) {
    agreementId = agreement.id;
  } else {
    if (agreement) {
      await sql`UPDATE sp_billing_agreements SET status = 'replaced', updated_at = now()
                 WHERE merchant_id = ${scope.merchantId} AND id = ${agreement.id}`.execute(tx);
    }
    agreementId = newSpId('billingAgreement');
    await sql`INSERT INTO sp_billing_agreements (merchant_id, environment, id, object_type, object_id, status, card_id)
              VALUES (${scope.merchantId}, ${scope.environment}, ${agreementId}, ${objectType}, ${objectId}, 'active', ${card.id})`.execute(
      tx,
    );
  }
  const result: StoredResult = {
    storedPaymentOptionReference: card.id,
    billingAgreementId: agreementId,
    billingAgreementName: brandName(card.brand),
    shortCardNumber: shortCardNumber(card.first6, card.last4),
    objectId,
    objectType,
  };
  if (objectType === 'subscription') {
    const { rows } = await sql<SubscriptionRow>`
      UPDATE sp_subscriptions SET billing_agreement_id = ${agreementId}, updated_at = now()
       WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${objectId}
      RETURNING *`.execute(tx);
    let sub = one(rows);
    await spEvent(tx, {
      ...scope,
      eventType: 'billing.updated',
      origin: 'widget',
      objectType: 'subscription',
      objectId,
      data: { ...result, subscription: subscriptionView(sub) },
      testClockId: sub.test_clock_id,
    });
    if (sub.status === 'created') {
      const { rows: activated } = await sql<SubscriptionRow>`
        UPDATE sp_subscriptions SET status = 'active', updated_at = now()
         WHERE merchant_id = ${scope.merchantId} AND id = ${objectId} AND status = 'created' RETURNING *`.execute(
        tx,
      );
      sub = one(activated);
      await spEvent(tx, {
        ...scope,
        eventType: 'status.updated',
        origin: 'widget',
        objectType: 'subscription',
        objectId,
        status: 'active',
        data: subscriptionView(sub),
        testClockId: sub.test_clock_id,
      });
      // Periods that ended before the card was stored are not billed: billing starts with the period
      // running now (prepaid: charged at once) or the next period end (post-paid).
      const now = await nowFor(tx, sub.test_clock_id, realNow);
      const terms = await subscriptionTerms(tx, sub);
      const upcoming = firstCycleAtOrAfter(terms, now, 0);
      const k = terms.prepaid ? Math.max(0, upcoming - 1) : upcoming;
      await scheduleNextCycle(tx, sub, { k, origin: 'widget' });
    } else if (sub.status === 'active') {
      // A subscription whose cycles had all closed without a card gets its next one.
      const now = await nowFor(tx, sub.test_clock_id, realNow);
      await onResume(tx, sub, now);
    }
  } else {
    const { rows } = await sql<{ id: string }>`
      UPDATE sp_payment_series SET billing_agreement_id = ${agreementId}, updated_at = now()
       WHERE merchant_id = ${scope.merchantId} AND environment = ${scope.environment} AND id = ${objectId} RETURNING id`.execute(
      tx,
    );
    one(rows);
    const series = await getSeries(tx, scope, objectId);
    await spEvent(tx, {
      ...scope,
      eventType: 'billing.updated',
      origin: 'widget',
      objectType: 'payment-series',
      objectId,
      data: { ...result, paymentSeries: seriesView(series) },
      testClockId: series.test_clock_id,
    });
  }
  return result;
}

export async function storedCardsFor(
  deps: CardDeps,
  scope: Scope,
  customerAccountId: string,
): Promise<StoredCard[]> {
  return deps.vault.customerCards(deps.db, scope, customerAccountId);
}
