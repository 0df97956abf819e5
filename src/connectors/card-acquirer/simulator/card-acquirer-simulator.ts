import { Type, type Static } from 'typebox';
import { AppError, assert } from '../../../core/errors/errors.js';
import { money, parseCurrency, type Currency, type Money } from '../../../core/money/money.js';
import type { CallOptions } from '../../contracts/call-budget.js';
import type {
  CardAcquirerCapabilities,
  CardAcquirerConnector,
  CardAuthorizeRequest,
  CardCapture,
  CardCaptureRequest,
  CardMerchantInitiatedRequest,
  CardPayment,
  CardRefund,
  CardRefundRequest,
  CardStatus,
  CardVoid,
  CardVoidRequest,
} from '../../contracts/card-acquirer.js';
import {
  assertConnectorReference,
  parseConnectorConfig,
  type ConnectorDefinition,
  type StatusRequest,
} from '../../contracts/connector.js';
import type { ConnectorOutcome, DeclineReason } from '../../contracts/outcome.js';
import {
  SimulatedVendor,
  SimulatorScript,
  answerWith,
  decline,
  fingerprintOf,
  lookupScriptableOutcomes,
  scriptedOutcomes,
  stableHex,
  type SimulatedBehaviour,
  type SimulatedDecline,
  type SimulatedRecord,
} from '../../contracts/simulator.js';
import {
  cardDeclineRaw,
  cardMagicBehaviour,
  cardRawCodes,
  parseSimulatorCardToken,
  shortOfFundsDays,
  type SimulatorCard,
} from './magic-values.js';

export const cardCurrenciesMax = 32;

export const CardAcquirerSimulatorConfigSchema = Type.Object(
  {
    currencies: Type.Array(Type.String({ pattern: '^[A-Z]{3}$' }), {
      minItems: 1,
      maxItems: cardCurrenciesMax,
    }),
    perTransactionMaxMinor: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    partialCaptureSupported: Type.Boolean(),
    refundsSupported: Type.Boolean(),
    partialRefundsSupported: Type.Boolean(),
    merchantInitiatedSupported: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type CardAcquirerSimulatorConfigInput = Static<typeof CardAcquirerSimulatorConfigSchema>;

/** A European acquirer that does everything; 10 000.00 per payment. */
export const cardAcquirerSimulatorDefaultConfig: CardAcquirerSimulatorConfigInput = {
  currencies: ['EUR', 'GBP', 'USD', 'DKK', 'SEK', 'NOK', 'ZAR'],
  perTransactionMaxMinor: 1_000_000,
  partialCaptureSupported: true,
  refundsSupported: true,
  partialRefundsSupported: true,
  merchantInitiatedSupported: true,
};

export type CardOperation =
  'authorize' | 'capture' | 'void' | 'refund' | 'chargeMerchantInitiated' | 'status';

type CardPaymentData = CardPayment & {
  readonly operation: 'payment';
  readonly initiatedBy: 'customer' | 'merchant';
};
type CardRecordData =
  | CardPaymentData
  | { readonly operation: 'capture'; readonly authorizationReference: string; readonly amount: Money }
  | { readonly operation: 'void'; readonly authorizationReference: string; readonly amount: Money }
  | { readonly operation: 'refund'; readonly paymentReference: string; readonly amount: Money };
type CardRecord = SimulatedRecord<CardRecordData>;

interface PaymentCall {
  readonly operation: 'authorize' | 'chargeMerchantInitiated';
  readonly reference: string;
  readonly cardToken: string;
  readonly amount: Money;
  readonly initiatedBy: 'customer' | 'merchant';
  readonly captured: boolean;
  readonly fingerprint: string;
  /** For merchant-initiated charges: when the merchant says the charge is made (test-clock time). */
  readonly initiatedAt?: Date | undefined;
  /** Rules beyond the card's own (merchant-initiated charges need a stored card's network id). */
  readonly refusal?: () => SimulatedDecline | undefined;
}

const networkTransactionIdPattern = /^ntid_[0-9a-f]{16}$/;
const liveStatuses = ['succeeded', 'pending'] as const;

/**
 * A deterministic card acquirer (see `magic-values.ts` and `src/connectors/README.md`). It remembers
 * payments, captures, voids and refunds by our reference and enforces what a real acquirer does: one
 * capture of at most the authorized amount, no capture after a void, refunds up to what was captured.
 */
export class CardAcquirerSimulator implements CardAcquirerConnector {
  static readonly id = 'card-acquirer-simulator';
  static readonly configSchema = CardAcquirerSimulatorConfigSchema;

  static create(config: unknown): CardAcquirerSimulator {
    const input = parseConnectorConfig(CardAcquirerSimulator.id, CardAcquirerSimulatorConfigSchema, config);
    if (input.partialRefundsSupported && !input.refundsSupported) {
      throw new AppError('validation_failed', 'partialRefundsSupported requires refundsSupported.', {
        field: '/partialRefundsSupported',
      });
    }
    return new CardAcquirerSimulator({
      ...input,
      currencies: input.currencies.map((code, index) => parseCurrency(code, `/currencies/${index}`)),
      perTransactionMaxMinor: BigInt(input.perTransactionMaxMinor),
    });
  }

  readonly id = CardAcquirerSimulator.id;
  readonly script = new SimulatorScript<CardOperation>({
    untargeted: ['authorize', 'capture', 'void', 'refund', 'chargeMerchantInitiated'],
    allowed: {
      authorize: scriptedOutcomes,
      capture: scriptedOutcomes,
      void: scriptedOutcomes,
      refund: scriptedOutcomes,
      chargeMerchantInitiated: scriptedOutcomes,
      status: lookupScriptableOutcomes,
    },
  });
  readonly #capabilities: CardAcquirerCapabilities;
  readonly #vendor: SimulatedVendor<CardOperation, CardRecordData>;

  constructor(capabilities: CardAcquirerCapabilities) {
    assert(capabilities.currencies.length > 0, 'an acquirer accepts at least one currency');
    assert(capabilities.perTransactionMaxMinor > 0n, 'perTransactionMaxMinor must be positive');
    this.#capabilities = { ...capabilities, currencies: [...capabilities.currencies] };
    this.#vendor = new SimulatedVendor({
      connectorReferencePrefix: 'simcard',
      succeeded: cardRawCodes.approved,
      pending: cardRawCodes.authenticationRequired,
      notFound: cardRawCodes.recordNotFound,
      declineRaw: cardDeclineRaw,
      defaultDeclineReason: 'do_not_honor',
      script: this.script,
    });
  }

  capabilities(): CardAcquirerCapabilities {
    return this.#capabilities;
  }

  async authorize(
    request: CardAuthorizeRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<CardPayment>> {
    // Zero is a card verification (account status check) that stores the card for later charges.
    assert(
      request.amount.amountMinor >= 0n,
      `amount must not be negative, got ${request.amount.amountMinor}`,
    );
    const payment = {
      operation: 'authorize',
      reference: request.reference,
      cardToken: request.cardToken,
      amount: request.amount,
      initiatedBy: 'customer',
      captured: request.captureMode === 'automatic',
      fingerprint: fingerprintOf({
        operation: 'authorize',
        cardToken: request.cardToken,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
        captureMode: request.captureMode,
        storeForMerchantInitiated: request.storeForMerchantInitiated,
        description: request.description,
      }),
    } as const;
    return this.#pay(payment, options);
  }

  async chargeMerchantInitiated(
    request: CardMerchantInitiatedRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<CardPayment>> {
    assertPositive(request.amount);
    const refusal = (): SimulatedDecline | undefined => {
      if (!this.#capabilities.merchantInitiatedSupported)
        return decline('not_supported', cardRawCodes.notPermitted);
      if (!networkTransactionIdPattern.test(request.previousNetworkTransactionId)) {
        return decline('invalid_state', cardRawCodes.invalidTransaction);
      }
      return undefined;
    };
    const payment = {
      operation: 'chargeMerchantInitiated',
      reference: request.reference,
      cardToken: request.cardToken,
      amount: request.amount,
      initiatedBy: 'merchant',
      captured: true,
      initiatedAt: request.initiatedAt,
      fingerprint: fingerprintOf({
        operation: 'chargeMerchantInitiated',
        cardToken: request.cardToken,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
        previousNetworkTransactionId: request.previousNetworkTransactionId,
        description: request.description,
      }),
      refusal,
    } as const;
    return this.#pay(payment, options);
  }

  async capture(request: CardCaptureRequest, options: CallOptions): Promise<ConnectorOutcome<CardCapture>> {
    assertPositive(request.amount);
    assertConnectorReference(request.authorizationReference, 'authorizationReference');
    return this.#vendor.perform({
      operation: 'capture',
      reference: request.reference,
      parentReference: request.authorizationReference,
      fingerprint: fingerprintOf({
        operation: 'capture',
        authorizationReference: request.authorizationReference,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
      }),
      options,
      magic: answerWith({ status: 'succeeded' }),
      refusal: () => this.#captureRefusal(request),
      data: {
        operation: 'capture',
        authorizationReference: request.authorizationReference,
        amount: request.amount,
      },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'capture', `reference ${record.reference} is not a capture`);
        return { authorizationReference: data.authorizationReference, amount: data.amount };
      },
    });
  }

  async void(request: CardVoidRequest, options: CallOptions): Promise<ConnectorOutcome<CardVoid>> {
    assertConnectorReference(request.authorizationReference, 'authorizationReference');
    const authorization = this.#payment(request.authorizationReference);
    // What a void releases is the authorization's amount; an unknown authorization is refused anyway.
    const released = authorization?.data.amount ?? money(0n, this.#firstCurrency());
    return this.#vendor.perform({
      operation: 'void',
      reference: request.reference,
      parentReference: request.authorizationReference,
      fingerprint: fingerprintOf({
        operation: 'void',
        authorizationReference: request.authorizationReference,
      }),
      options,
      magic: answerWith({ status: 'succeeded' }),
      refusal: () => this.#voidRefusal(request.authorizationReference),
      data: { operation: 'void', authorizationReference: request.authorizationReference, amount: released },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'void', `reference ${record.reference} is not a void`);
        return { authorizationReference: data.authorizationReference, amount: data.amount };
      },
    });
  }

  async refund(request: CardRefundRequest, options: CallOptions): Promise<ConnectorOutcome<CardRefund>> {
    assertPositive(request.amount);
    assertConnectorReference(request.paymentReference, 'paymentReference');
    return this.#vendor.perform({
      operation: 'refund',
      reference: request.reference,
      parentReference: request.paymentReference,
      fingerprint: fingerprintOf({
        operation: 'refund',
        paymentReference: request.paymentReference,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
      }),
      options,
      magic: answerWith({ status: 'succeeded' }),
      refusal: () => this.#refundRefusal(request),
      data: { operation: 'refund', paymentReference: request.paymentReference, amount: request.amount },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'refund', `reference ${record.reference} is not a refund`);
        return { paymentReference: data.paymentReference, amount: data.amount };
      },
    });
  }

  async status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<CardStatus>> {
    return this.#vendor.lookup('status', request.reference, options, (record) => this.#statusOf(record));
  }

  /** Decides a pending authorization now (the payer finished or failed authentication). */
  settle(reference: string, outcome: 'succeeded' | 'declined', declineReason?: DeclineReason): boolean {
    if (outcome === 'succeeded') return this.#vendor.settle(reference, { status: 'succeeded' });
    const reason = declineReason ?? 'do_not_honor';
    return this.#vendor.settle(reference, decline(reason, cardDeclineRaw(reason)));
  }

  get recordCount(): number {
    return this.#vendor.recordCount;
  }

  reset(): void {
    this.#vendor.reset();
    this.#firstMerchantInitiated.clear();
  }

  /** Authorizations and merchant-initiated charges are the same vendor operation: a payment. */
  async #pay(payment: PaymentCall, options: CallOptions): Promise<ConnectorOutcome<CardPayment>> {
    const { operation, reference, amount, initiatedBy, captured, fingerprint } = payment;
    const card = parseSimulatorCardToken(payment.cardToken);
    const magic: SimulatedBehaviour = card
      ? cardMagicBehaviour(card, initiatedBy, this.#shortOfFunds(payment))
      : answerWith(decline('invalid_account', cardRawCodes.invalidCardNumber));
    return this.#vendor.perform({
      operation,
      reference,
      fingerprint,
      options,
      magic,
      refusal: () => this.#paymentRefusal(card, amount) ?? payment.refusal?.(),
      data: {
        operation: 'payment',
        initiatedBy,
        amount,
        captured,
        networkTransactionId: `ntid_${stableHex(`ntid:${reference}`)}`,
        cardLast4: card?.last4 ?? '0000',
        cardBrand: card?.brand ?? 'card',
      },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'payment', `reference ${record.reference} is not a payment`);
        return {
          amount: data.amount,
          captured: data.captured,
          networkTransactionId: data.networkTransactionId,
          cardLast4: data.cardLast4,
          cardBrand: data.cardBrand,
        };
      },
    });
  }

  /** First merchant-initiated charge seen per card token (for the short-of-funds test card). */
  readonly #firstMerchantInitiated = new Map<string, number>();

  #shortOfFunds(payment: PaymentCall): boolean {
    if (payment.initiatedBy !== 'merchant') return false;
    const at = (payment.initiatedAt ?? new Date()).getTime();
    const first = this.#firstMerchantInitiated.get(payment.cardToken) ?? at;
    if (!this.#firstMerchantInitiated.has(payment.cardToken))
      this.#firstMerchantInitiated.set(payment.cardToken, at);
    return at < first + shortOfFundsDays * 86_400_000;
  }

  #paymentRefusal(card: SimulatorCard | undefined, amount: Money): SimulatedDecline | undefined {
    if (!card) return decline('invalid_account', cardRawCodes.invalidCardNumber);
    if (!this.#capabilities.currencies.includes(amount.currency)) {
      return decline('not_supported', cardRawCodes.notPermitted);
    }
    if (amount.amountMinor > this.#capabilities.perTransactionMaxMinor) {
      return decline('limit_exceeded', cardRawCodes.exceedsLimit);
    }
    return undefined;
  }

  #captureRefusal(request: CardCaptureRequest): SimulatedDecline | undefined {
    const authorization = this.#payment(request.authorizationReference);
    if (!authorization || authorization.state.status !== 'succeeded' || authorization.data.captured) {
      return decline('invalid_state', cardRawCodes.invalidTransaction);
    }
    const children = this.#vendor.childrenOf(request.authorizationReference);
    if (children.some((child) => child.data.operation !== 'refund' && isLive(child))) {
      return decline('invalid_state', cardRawCodes.invalidTransaction);
    }
    const authorized = authorization.data.amount;
    if (
      request.amount.currency !== authorized.currency ||
      request.amount.amountMinor > authorized.amountMinor
    ) {
      return decline('invalid_amount', cardRawCodes.invalidAmount);
    }
    if (
      !this.#capabilities.partialCaptureSupported &&
      request.amount.amountMinor !== authorized.amountMinor
    ) {
      return decline('not_supported', cardRawCodes.notPermitted);
    }
    return undefined;
  }

  #voidRefusal(authorizationReference: string): SimulatedDecline | undefined {
    const authorization = this.#payment(authorizationReference);
    if (!authorization || authorization.state.status !== 'succeeded' || authorization.data.captured) {
      return decline('invalid_state', cardRawCodes.invalidTransaction);
    }
    const children = this.#vendor.childrenOf(authorizationReference);
    if (children.some(isLive)) return decline('invalid_state', cardRawCodes.invalidTransaction);
    return undefined;
  }

  #refundRefusal(request: CardRefundRequest): SimulatedDecline | undefined {
    if (!this.#capabilities.refundsSupported) return decline('not_supported', cardRawCodes.notPermitted);
    const payment = this.#payment(request.paymentReference);
    if (!payment || payment.state.status !== 'succeeded') {
      return decline('invalid_state', cardRawCodes.invalidTransaction);
    }
    const capturedMinor = this.#capturedMinor(payment);
    if (capturedMinor === 0n) return decline('invalid_state', cardRawCodes.invalidTransaction);
    if (request.amount.currency !== payment.data.amount.currency) {
      return decline('invalid_amount', cardRawCodes.invalidAmount);
    }
    if (!this.#capabilities.partialRefundsSupported && request.amount.amountMinor !== capturedMinor) {
      return decline('not_supported', cardRawCodes.notPermitted);
    }
    // Pending refunds count: if they settle, the total must still fit.
    const heldMinor = this.#sumOf(request.paymentReference, 'refund', liveStatuses);
    if (request.amount.amountMinor > capturedMinor - heldMinor) {
      return decline('invalid_amount', cardRawCodes.invalidAmount);
    }
    return undefined;
  }

  #payment(reference: string): (CardRecord & { readonly data: CardPaymentData }) | undefined {
    const record = this.#vendor.get(reference);
    if (!record || record.data.operation !== 'payment') return undefined;
    return { ...record, data: record.data };
  }

  #capturedMinor(payment: CardRecord & { readonly data: CardPaymentData }): bigint {
    if (payment.state.status !== 'succeeded') return 0n;
    if (payment.data.captured) return payment.data.amount.amountMinor;
    return this.#sumOf(payment.reference, 'capture', ['succeeded']);
  }

  #sumOf(parentReference: string, operation: 'capture' | 'refund', statuses: readonly string[]): bigint {
    let totalMinor = 0n;
    for (const child of this.#vendor.childrenOf(parentReference)) {
      if (child.data.operation === operation && statuses.includes(child.state.status)) {
        totalMinor += child.data.amount.amountMinor;
      }
    }
    return totalMinor;
  }

  #statusOf(record: CardRecord): CardStatus {
    const data = record.data;
    switch (data.operation) {
      case 'capture':
        return {
          operation: 'capture',
          authorizationReference: data.authorizationReference,
          amount: data.amount,
        };
      case 'void':
        return { operation: 'void', authorizationReference: data.authorizationReference };
      case 'refund':
        return { operation: 'refund', paymentReference: data.paymentReference, amount: data.amount };
      case 'payment': {
        const currency = data.amount.currency;
        const voided = this.#vendor
          .childrenOf(record.reference)
          .some((child) => child.data.operation === 'void' && child.state.status === 'succeeded');
        return {
          operation: 'payment',
          initiatedBy: data.initiatedBy,
          amount: data.amount,
          capturedAmount: money(this.#capturedMinor({ ...record, data }), currency),
          refundedAmount: money(this.#sumOf(record.reference, 'refund', ['succeeded']), currency),
          voided,
          networkTransactionId: data.networkTransactionId,
          cardLast4: data.cardLast4,
        };
      }
    }
  }

  #firstCurrency(): Currency {
    const [first] = this.#capabilities.currencies;
    assert(first, 'an acquirer accepts at least one currency');
    return first;
  }
}

export const cardAcquirerSimulatorDefinition: ConnectorDefinition<CardAcquirerSimulator> =
  CardAcquirerSimulator;

export function createCardAcquirerSimulator(
  config: CardAcquirerSimulatorConfigInput = cardAcquirerSimulatorDefaultConfig,
): CardAcquirerSimulator {
  return CardAcquirerSimulator.create(config);
}

function isLive(record: CardRecord): boolean {
  return record.state.status === 'succeeded' || record.state.status === 'pending';
}

function assertPositive(amount: Money): void {
  assert(amount.amountMinor > 0n, `amount must be positive, got ${amount.amountMinor}`);
}
