import { Type, type Static } from 'typebox';
import { AppError, assert } from '../../../core/errors/errors.js';
import { money, parseCurrency, type Currency, type Money } from '../../../core/money/money.js';
import type { CallOptions } from '../../contracts/call-budget.js';
import {
  assertConnectorReference,
  parseConnectorConfig,
  type ConnectorDefinition,
  type StatusRequest,
} from '../../contracts/connector.js';
import type { ConnectorOutcome } from '../../contracts/outcome.js';
import {
  walletDescriptionLengthMax,
  type PayerWalletCapabilities,
  type PayerWalletConnector,
  type WalletAgreement,
  type WalletAgreementApprovalRequest,
  type WalletCancel,
  type WalletCancelRequest,
  type WalletCapture,
  type WalletCaptureRequest,
  type WalletPaymentRequest,
  type WalletRefund,
  type WalletRefundRequest,
  type WalletReservation,
  type WalletStatus,
} from '../../contracts/payer-wallet.js';
import {
  SimulatedVendor,
  SimulatorScript,
  answerWith,
  decline,
  fingerprintOf,
  lookupScriptableOutcomes,
  scriptedOutcomes,
  type SimulatedDecline,
  type SimulatedRecord,
} from '../../contracts/simulator.js';
import {
  walletDeclineRaw,
  walletMagicBehaviour,
  walletRawCodes,
  type WalletRequestKind,
} from './magic-values.js';

export const walletCurrenciesMax = 8;

export const PayerWalletSimulatorConfigSchema = Type.Object(
  {
    currencies: Type.Array(Type.String({ pattern: '^[A-Z]{3}$' }), {
      minItems: 1,
      maxItems: walletCurrenciesMax,
    }),
    perTransactionMaxMinor: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    partialCaptureSupported: Type.Boolean(),
    refundsSupported: Type.Boolean(),
    partialRefundsSupported: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type PayerWalletSimulatorConfigInput = Static<typeof PayerWalletSimulatorConfigSchema>;

/** MobilePay's Nordic currencies; DKK 300 000.00 is MobilePay's per-payment maximum in Denmark. */
export const payerWalletSimulatorDefaultConfig: PayerWalletSimulatorConfigInput = {
  currencies: ['DKK', 'EUR', 'NOK', 'SEK'],
  perTransactionMaxMinor: 30_000_000,
  partialCaptureSupported: true,
  refundsSupported: true,
  partialRefundsSupported: true,
};

export type WalletOperation =
  | 'requestAgreementApproval'
  | 'requestPaymentApproval'
  | 'reserve'
  | 'capture'
  | 'cancel'
  | 'refund'
  | 'status';

type AgreementData = { readonly operation: 'agreement' } & WalletAgreement;
type ReservationData = {
  readonly operation: 'reservation';
  readonly approvedByPayer: boolean;
} & WalletReservation;
type WalletRecordData =
  | AgreementData
  | ReservationData
  | { readonly operation: 'capture'; readonly reservationReference: string; readonly amount: Money }
  | { readonly operation: 'cancel'; readonly reservationReference: string; readonly amount: Money }
  | { readonly operation: 'refund'; readonly reservationReference: string; readonly amount: Money };
type WalletRecord = SimulatedRecord<WalletRecordData>;

/** E.164 without the `+`: a country code and 7-14 more digits. */
const payerIdPattern = /^[1-9][0-9]{7,14}$/;

/**
 * A deterministic payer wallet (see `magic-values.ts` and `src/connectors/README.md`). It remembers
 * agreements, reservations, captures, cancellations and refunds by our reference, plays the payer
 * (by magic phone number, or by `approve()` / `reject()` from the sandbox), and enforces one capture of
 * at most the reserved amount and refunds up to what was captured.
 */
export class PayerWalletSimulator implements PayerWalletConnector {
  static readonly id = 'payer-wallet-simulator';
  static readonly configSchema = PayerWalletSimulatorConfigSchema;

  static create(config: unknown): PayerWalletSimulator {
    const input = parseConnectorConfig(PayerWalletSimulator.id, PayerWalletSimulatorConfigSchema, config);
    if (input.partialRefundsSupported && !input.refundsSupported) {
      throw new AppError('validation_failed', 'partialRefundsSupported requires refundsSupported.', {
        field: '/partialRefundsSupported',
      });
    }
    return new PayerWalletSimulator({
      ...input,
      currencies: input.currencies.map((code, index) => parseCurrency(code, `/currencies/${index}`)),
      perTransactionMaxMinor: BigInt(input.perTransactionMaxMinor),
    });
  }

  readonly id = PayerWalletSimulator.id;
  readonly script = new SimulatorScript<WalletOperation>({
    untargeted: [
      'requestAgreementApproval',
      'requestPaymentApproval',
      'reserve',
      'capture',
      'cancel',
      'refund',
    ],
    allowed: {
      requestAgreementApproval: scriptedOutcomes,
      requestPaymentApproval: scriptedOutcomes,
      reserve: scriptedOutcomes,
      capture: scriptedOutcomes,
      cancel: scriptedOutcomes,
      refund: scriptedOutcomes,
      status: lookupScriptableOutcomes,
    },
  });
  readonly #capabilities: PayerWalletCapabilities;
  readonly #vendor: SimulatedVendor<WalletOperation, WalletRecordData>;

  constructor(capabilities: PayerWalletCapabilities) {
    assert(capabilities.currencies.length > 0, 'a wallet accepts at least one currency');
    assert(capabilities.perTransactionMaxMinor > 0n, 'perTransactionMaxMinor must be positive');
    this.#capabilities = { ...capabilities, currencies: [...capabilities.currencies] };
    this.#vendor = new SimulatedVendor({
      connectorReferencePrefix: 'simwal',
      succeeded: walletRawCodes.accepted,
      pending: walletRawCodes.pending,
      notFound: walletRawCodes.notFound,
      declineRaw: walletDeclineRaw,
      defaultDeclineReason: 'do_not_honor',
      script: this.script,
    });
  }

  capabilities(): PayerWalletCapabilities {
    return this.#capabilities;
  }

  async requestAgreementApproval(
    request: WalletAgreementApprovalRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<WalletAgreement>> {
    assertDescription(request.description);
    if (request.amount) {
      assertPositive(request.amount);
      assert(
        request.amount.currency === request.currency,
        'an agreement amount is in the agreement currency',
      );
    }
    const agreement: WalletAgreement = request.amount
      ? { payerId: request.payerId, currency: request.currency, amount: request.amount }
      : { payerId: request.payerId, currency: request.currency };
    return this.#vendor.perform({
      operation: 'requestAgreementApproval',
      reference: request.reference,
      fingerprint: fingerprintOf({
        operation: 'agreement',
        payerId: request.payerId,
        description: request.description,
        currency: request.currency,
        amountMinor: request.amount?.amountMinor,
      }),
      options,
      magic: walletMagicBehaviour(request.payerId, 'agreement_approval'),
      refusal: () => this.#agreementRefusal(request),
      data: { operation: 'agreement', ...agreement },
      present: (record) => {
        const { operation: _operation, ...data } = agreementData(record);
        return data;
      },
    });
  }

  async requestPaymentApproval(
    request: WalletPaymentRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<WalletReservation>> {
    return this.#reserve('requestPaymentApproval', 'payment_approval', request, options);
  }

  async reserve(
    request: WalletPaymentRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<WalletReservation>> {
    return this.#reserve('reserve', 'reserve', request, options);
  }

  async capture(
    request: WalletCaptureRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<WalletCapture>> {
    assertPositive(request.amount);
    assertConnectorReference(request.reservationReference, 'reservationReference');
    return this.#vendor.perform({
      operation: 'capture',
      reference: request.reference,
      parentReference: request.reservationReference,
      fingerprint: fingerprintOf({
        operation: 'capture',
        reservationReference: request.reservationReference,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
      }),
      options,
      magic: answerWith({ status: 'succeeded' }),
      refusal: () => this.#captureRefusal(request),
      data: {
        operation: 'capture',
        reservationReference: request.reservationReference,
        amount: request.amount,
      },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'capture', `reference ${record.reference} is not a capture`);
        return { reservationReference: data.reservationReference, amount: data.amount };
      },
    });
  }

  async cancel(request: WalletCancelRequest, options: CallOptions): Promise<ConnectorOutcome<WalletCancel>> {
    assertConnectorReference(request.reservationReference, 'reservationReference');
    const reservation = this.#reservation(request.reservationReference);
    // An unknown reservation is refused anyway; its "released" amount is then zero.
    const released = reservation?.data.amount ?? money(0n, this.#firstCurrency());
    return this.#vendor.perform({
      operation: 'cancel',
      reference: request.reference,
      parentReference: request.reservationReference,
      fingerprint: fingerprintOf({ operation: 'cancel', reservationReference: request.reservationReference }),
      options,
      magic: answerWith({ status: 'succeeded' }),
      refusal: () => this.#cancelRefusal(request.reservationReference),
      data: { operation: 'cancel', reservationReference: request.reservationReference, amount: released },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'cancel', `reference ${record.reference} is not a cancellation`);
        return { reservationReference: data.reservationReference, amount: data.amount };
      },
    });
  }

  async refund(request: WalletRefundRequest, options: CallOptions): Promise<ConnectorOutcome<WalletRefund>> {
    assertPositive(request.amount);
    assertConnectorReference(request.reservationReference, 'reservationReference');
    return this.#vendor.perform({
      operation: 'refund',
      reference: request.reference,
      parentReference: request.reservationReference,
      fingerprint: fingerprintOf({
        operation: 'refund',
        reservationReference: request.reservationReference,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
      }),
      options,
      magic: answerWith({ status: 'succeeded' }),
      refusal: () => this.#refundRefusal(request),
      data: {
        operation: 'refund',
        reservationReference: request.reservationReference,
        amount: request.amount,
      },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'refund', `reference ${record.reference} is not a refund`);
        return { reservationReference: data.reservationReference, amount: data.amount };
      },
    });
  }

  async status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<WalletStatus>> {
    return this.#vendor.lookup('status', request.reference, options, (record) => this.#statusOf(record));
  }

  /**
   * The payer approves a pending agreement or payment request in the app (the sandbox's payer
   * simulation). False when there is no pending request with this reference.
   */
  approve(reference: string): boolean {
    return this.#vendor.settle(reference, { status: 'succeeded' });
  }

  /** The payer rejects a pending agreement or payment request. False when there is nothing to reject. */
  reject(reference: string): boolean {
    const record = this.#vendor.get(reference);
    const raw =
      record?.data.operation === 'agreement'
        ? walletRawCodes.agreementRejected
        : walletRawCodes.paymentRejected;
    return this.#vendor.settle(reference, decline('rejected_by_payer', raw));
  }

  get recordCount(): number {
    return this.#vendor.recordCount;
  }

  reset(): void {
    this.#vendor.reset();
  }

  async #reserve(
    operation: 'requestPaymentApproval' | 'reserve',
    kind: WalletRequestKind,
    request: WalletPaymentRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<WalletReservation>> {
    assertPositive(request.amount);
    assertDescription(request.description);
    assertConnectorReference(request.agreementReference, 'agreementReference');
    const agreement = this.#agreement(request.agreementReference);
    const magic = agreement
      ? walletMagicBehaviour(agreement.data.payerId, kind)
      : answerWith(decline('invalid_state', walletRawCodes.agreementNotActive));
    return this.#vendor.perform({
      operation,
      reference: request.reference,
      parentReference: request.agreementReference,
      fingerprint: fingerprintOf({
        operation,
        agreementReference: request.agreementReference,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
        description: request.description,
      }),
      options,
      magic,
      refusal: () => this.#reservationRefusal(request),
      data: {
        operation: 'reservation',
        approvedByPayer: kind === 'payment_approval',
        agreementReference: request.agreementReference,
        amount: request.amount,
      },
      present: (record) => {
        const data = record.data;
        assert(data.operation === 'reservation', `reference ${record.reference} is not a reservation`);
        return { agreementReference: data.agreementReference, amount: data.amount };
      },
    });
  }

  #agreementRefusal(request: WalletAgreementApprovalRequest): SimulatedDecline | undefined {
    if (!payerIdPattern.test(request.payerId)) return decline('invalid_account', walletRawCodes.noUser);
    if (!this.#capabilities.currencies.includes(request.currency)) {
      return decline('not_supported', walletRawCodes.notSupported);
    }
    if (request.amount && request.amount.amountMinor > this.#capabilities.perTransactionMaxMinor) {
      return decline('limit_exceeded', walletRawCodes.limit);
    }
    return undefined;
  }

  #reservationRefusal(request: WalletPaymentRequest): SimulatedDecline | undefined {
    const agreement = this.#agreement(request.agreementReference);
    if (!agreement || agreement.state.status !== 'succeeded') {
      return decline('invalid_state', walletRawCodes.agreementNotActive);
    }
    if (request.amount.currency !== agreement.data.currency)
      return decline('invalid_amount', walletRawCodes.currency);
    if (request.amount.amountMinor > this.#capabilities.perTransactionMaxMinor) {
      return decline('limit_exceeded', walletRawCodes.limit);
    }
    return undefined;
  }

  #captureRefusal(request: WalletCaptureRequest): SimulatedDecline | undefined {
    const reservation = this.#reservation(request.reservationReference);
    if (!reservation || reservation.state.status !== 'succeeded') {
      return decline('invalid_state', walletRawCodes.paymentNotFound);
    }
    const children = this.#vendor.childrenOf(request.reservationReference);
    if (children.some((child) => child.data.operation !== 'refund' && isLive(child))) {
      return decline('invalid_state', walletRawCodes.paymentNotFound);
    }
    const reserved = reservation.data.amount;
    if (request.amount.currency !== reserved.currency || request.amount.amountMinor > reserved.amountMinor) {
      return decline('invalid_amount', walletRawCodes.refundExceeds);
    }
    if (!this.#capabilities.partialCaptureSupported && request.amount.amountMinor !== reserved.amountMinor) {
      return decline('not_supported', walletRawCodes.notSupported);
    }
    return undefined;
  }

  #cancelRefusal(reservationReference: string): SimulatedDecline | undefined {
    const reservation = this.#reservation(reservationReference);
    if (!reservation || reservation.state.status !== 'succeeded') {
      return decline('invalid_state', walletRawCodes.paymentNotFound);
    }
    if (this.#vendor.childrenOf(reservationReference).some(isLive)) {
      return decline('invalid_state', walletRawCodes.paymentNotFound);
    }
    return undefined;
  }

  #refundRefusal(request: WalletRefundRequest): SimulatedDecline | undefined {
    if (!this.#capabilities.refundsSupported) return decline('not_supported', walletRawCodes.notSupported);
    const reservation = this.#reservation(request.reservationReference);
    const capturedMinor = reservation
      ? this.#sumOf(request.reservationReference, 'capture', ['succeeded'])
      : 0n;
    if (!reservation || capturedMinor === 0n) return decline('invalid_state', walletRawCodes.paymentNotFound);
    if (request.amount.currency !== reservation.data.amount.currency) {
      return decline('invalid_amount', walletRawCodes.currency);
    }
    if (!this.#capabilities.partialRefundsSupported && request.amount.amountMinor !== capturedMinor) {
      return decline('not_supported', walletRawCodes.notSupported);
    }
    // Pending refunds count: if they settle, the total must still fit.
    const heldMinor = this.#sumOf(request.reservationReference, 'refund', ['succeeded', 'pending']);
    if (request.amount.amountMinor > capturedMinor - heldMinor) {
      return decline('invalid_amount', walletRawCodes.refundExceeds);
    }
    return undefined;
  }

  #agreement(reference: string): (WalletRecord & { readonly data: AgreementData }) | undefined {
    const record = this.#vendor.get(reference);
    if (!record || record.data.operation !== 'agreement') return undefined;
    return { ...record, data: record.data };
  }

  #reservation(reference: string): (WalletRecord & { readonly data: ReservationData }) | undefined {
    const record = this.#vendor.get(reference);
    if (!record || record.data.operation !== 'reservation') return undefined;
    return { ...record, data: record.data };
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

  #statusOf(record: WalletRecord): WalletStatus {
    const data = record.data;
    switch (data.operation) {
      case 'agreement':
        return data;
      case 'capture':
        return { operation: 'capture', reservationReference: data.reservationReference, amount: data.amount };
      case 'cancel':
        return { operation: 'cancel', reservationReference: data.reservationReference };
      case 'refund':
        return { operation: 'refund', reservationReference: data.reservationReference, amount: data.amount };
      case 'reservation': {
        const currency = data.amount.currency;
        const children = this.#vendor.childrenOf(record.reference);
        return {
          operation: 'reservation',
          agreementReference: data.agreementReference,
          amount: data.amount,
          capturedAmount: money(this.#sumOf(record.reference, 'capture', ['succeeded']), currency),
          refundedAmount: money(this.#sumOf(record.reference, 'refund', ['succeeded']), currency),
          cancelled: children.some(
            (child) => child.data.operation === 'cancel' && child.state.status === 'succeeded',
          ),
          approvedByPayer: data.approvedByPayer,
        };
      }
    }
  }

  #firstCurrency(): Currency {
    const [first] = this.#capabilities.currencies;
    assert(first, 'a wallet accepts at least one currency');
    return first;
  }
}

export const payerWalletSimulatorDefinition: ConnectorDefinition<PayerWalletSimulator> = PayerWalletSimulator;

export function createPayerWalletSimulator(
  config: PayerWalletSimulatorConfigInput = payerWalletSimulatorDefaultConfig,
): PayerWalletSimulator {
  return PayerWalletSimulator.create(config);
}

function agreementData(record: WalletRecord): AgreementData {
  const data = record.data;
  assert(data.operation === 'agreement', `reference ${record.reference} is not an agreement`);
  return data;
}

function isLive(record: WalletRecord): boolean {
  return record.state.status === 'succeeded' || record.state.status === 'pending';
}

function assertPositive(amount: Money): void {
  assert(amount.amountMinor > 0n, `amount must be positive, got ${amount.amountMinor}`);
}

function assertDescription(description: string): void {
  assert(
    description.length > 0 && description.length <= walletDescriptionLengthMax,
    `description must be 1-${walletDescriptionLengthMax} characters`,
  );
}
