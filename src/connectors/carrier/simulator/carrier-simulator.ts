import { Type, type Static } from 'typebox';
import { AppError, assert } from '../../../core/errors/errors.js';
import { money, parseCurrency, type Money } from '../../../core/money/money.js';
import type { CallOptions } from '../../contracts/call-budget.js';
import {
  carrierDescriptionLengthMax,
  type CarrierCapabilities,
  type CarrierCharge,
  type CarrierChargeRequest,
  type CarrierConnector,
  type CarrierRefund,
  type CarrierRefundRequest,
  type CarrierStatus,
} from '../../contracts/carrier.js';
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
  type SimulatedDecline,
  type SimulatedRecord,
} from '../../contracts/simulator.js';
import { carrierDeclineRaw, carrierMagicBehaviour, carrierRawCodes } from './magic-values.js';

/** A carrier bills one or a few currencies; a longer list is a config mistake. */
export const carrierCurrenciesMax = 8;

export const CarrierSimulatorConfigSchema = Type.Object(
  {
    refundsSupported: Type.Boolean(),
    partialRefundsSupported: Type.Boolean(),
    currencies: Type.Array(Type.String({ pattern: '^[A-Z]{3}$' }), {
      minItems: 1,
      maxItems: carrierCurrenciesMax,
    }),
    perTransactionMaxMinor: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);
export type CarrierSimulatorConfigInput = Static<typeof CarrierSimulatorConfigSchema>;

/**
 * Two UK carriers, so products can ship "one that refunds and one that does not". The £240 cap per
 * charge is the simulator's, in the range UK carriers apply to phone-paid services.
 */
export const carrierSimulatorPresets: Readonly<
  Record<'ukWithRefunds' | 'ukWithoutRefunds', CarrierSimulatorConfigInput>
> = {
  ukWithRefunds: {
    refundsSupported: true,
    partialRefundsSupported: true,
    currencies: ['GBP'],
    perTransactionMaxMinor: 24_000,
  },
  ukWithoutRefunds: {
    refundsSupported: false,
    partialRefundsSupported: false,
    currencies: ['GBP'],
    perTransactionMaxMinor: 24_000,
  },
};

export type CarrierOperation = 'charge' | 'refund' | 'status';

type CarrierRecordData =
  | { readonly operation: 'charge'; readonly msisdn: string; readonly amount: Money }
  | { readonly operation: 'refund'; readonly chargeReference: string; readonly amount: Money };

/** E.164 without the `+`: a country code and 7-14 more digits. */
const msisdnPattern = /^[1-9][0-9]{7,14}$/;

/**
 * A deterministic carrier (see `magic-values.ts` and `src/connectors/README.md`). It remembers every
 * charge and refund by our reference: the same reference gets the same answer, refunds never exceed
 * the charge, and `status()` reports what really happened even when the charge's answer was lost.
 */
export class CarrierSimulator implements CarrierConnector {
  static readonly id = 'carrier-simulator';
  static readonly configSchema = CarrierSimulatorConfigSchema;

  static create(config: unknown): CarrierSimulator {
    const input = parseConnectorConfig(CarrierSimulator.id, CarrierSimulatorConfigSchema, config);
    if (input.partialRefundsSupported && !input.refundsSupported) {
      throw new AppError('validation_failed', 'partialRefundsSupported requires refundsSupported.', {
        field: '/partialRefundsSupported',
      });
    }
    return new CarrierSimulator({
      refundsSupported: input.refundsSupported,
      partialRefundsSupported: input.partialRefundsSupported,
      currencies: input.currencies.map((code, index) => parseCurrency(code, `/currencies/${index}`)),
      perTransactionMaxMinor: BigInt(input.perTransactionMaxMinor),
    });
  }

  readonly id = CarrierSimulator.id;
  readonly script = new SimulatorScript<CarrierOperation>({
    untargeted: ['charge', 'refund'],
    allowed: { charge: scriptedOutcomes, refund: scriptedOutcomes, status: lookupScriptableOutcomes },
  });
  readonly #capabilities: CarrierCapabilities;
  readonly #vendor: SimulatedVendor<CarrierOperation, CarrierRecordData>;

  constructor(capabilities: CarrierCapabilities) {
    assert(capabilities.currencies.length > 0, 'a carrier bills at least one currency');
    assert(capabilities.perTransactionMaxMinor > 0n, 'perTransactionMaxMinor must be positive');
    this.#capabilities = { ...capabilities, currencies: [...capabilities.currencies] };
    this.#vendor = new SimulatedVendor({
      connectorReferencePrefix: 'simcar',
      succeeded: carrierRawCodes.billed,
      pending: carrierRawCodes.inProgress,
      notFound: carrierRawCodes.notFound,
      declineRaw: carrierDeclineRaw,
      defaultDeclineReason: 'do_not_honor',
      script: this.script,
    });
  }

  capabilities(): CarrierCapabilities {
    return this.#capabilities;
  }

  async charge(
    request: CarrierChargeRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<CarrierCharge>> {
    assertPositive(request.amount);
    assert(
      request.description.length > 0 && request.description.length <= carrierDescriptionLengthMax,
      `description must be 1-${carrierDescriptionLengthMax} characters`,
    );
    return this.#vendor.perform({
      operation: 'charge',
      reference: request.reference,
      fingerprint: fingerprintOf({
        operation: 'charge',
        msisdn: request.msisdn,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
        description: request.description,
        merchantName: request.merchantName,
      }),
      options,
      magic: carrierMagicBehaviour(request.msisdn),
      refusal: () => this.#chargeRefusal(request),
      data: { operation: 'charge', msisdn: request.msisdn, amount: request.amount },
      present: (record) => {
        const data = chargeData(record);
        return { msisdn: data.msisdn, amount: data.amount };
      },
    });
  }

  async refund(
    request: CarrierRefundRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<CarrierRefund>> {
    assertPositive(request.amount);
    assertConnectorReference(request.chargeReference, 'chargeReference');
    return this.#vendor.perform({
      operation: 'refund',
      reference: request.reference,
      parentReference: request.chargeReference,
      fingerprint: fingerprintOf({
        operation: 'refund',
        chargeReference: request.chargeReference,
        amountMinor: request.amount.amountMinor,
        currency: request.amount.currency,
      }),
      options,
      magic: answerWith({ status: 'succeeded' }),
      refusal: () => this.#refundRefusal(request),
      data: { operation: 'refund', chargeReference: request.chargeReference, amount: request.amount },
      present: (record) => {
        const data = refundData(record);
        return { chargeReference: data.chargeReference, amount: data.amount };
      },
    });
  }

  async status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<CarrierStatus>> {
    return this.#vendor.lookup('status', request.reference, options, (record) => this.#statusOf(record));
  }

  /**
   * Decides a pending charge now, as the carrier's back office would; for the sandbox and tests. Returns
   * false when the reference is unknown or already decided.
   */
  settle(reference: string, outcome: 'succeeded' | 'declined', declineReason?: DeclineReason): boolean {
    if (outcome === 'succeeded') return this.#vendor.settle(reference, { status: 'succeeded' });
    const reason = declineReason ?? 'do_not_honor';
    return this.#vendor.settle(reference, decline(reason, carrierDeclineRaw(reason)));
  }

  /** How many charges and refunds the carrier remembers (declined ones included). */
  get recordCount(): number {
    return this.#vendor.recordCount;
  }

  /** Forgets every charge and refund and empties the script. */
  reset(): void {
    this.#vendor.reset();
  }

  #chargeRefusal(request: CarrierChargeRequest): SimulatedDecline | undefined {
    if (!msisdnPattern.test(request.msisdn)) return decline('invalid_account', carrierRawCodes.notRecognised);
    if (!this.#capabilities.currencies.includes(request.amount.currency)) {
      return decline('not_supported', carrierRawCodes.currencyNotBilled);
    }
    if (request.amount.amountMinor > this.#capabilities.perTransactionMaxMinor) {
      return decline('limit_exceeded', carrierRawCodes.spendingLimit);
    }
    return undefined;
  }

  #refundRefusal(request: CarrierRefundRequest): SimulatedDecline | undefined {
    if (!this.#capabilities.refundsSupported)
      return decline('not_supported', carrierRawCodes.refundsNotOffered);
    const charge = this.#vendor.get(request.chargeReference);
    if (!charge || charge.data.operation !== 'charge' || charge.state.status !== 'succeeded') {
      return decline('invalid_state', carrierRawCodes.chargeNotRefundable);
    }
    if (request.amount.currency !== charge.data.amount.currency) {
      return decline('invalid_amount', carrierRawCodes.refundAmountInvalid);
    }
    if (
      !this.#capabilities.partialRefundsSupported &&
      request.amount.amountMinor !== charge.data.amount.amountMinor
    ) {
      return decline('not_supported', carrierRawCodes.partialRefundsNotOffered);
    }
    // Pending refunds count: if they settle, the total must still fit.
    const heldMinor = this.#refundsMinor(request.chargeReference, ['succeeded', 'pending']);
    if (request.amount.amountMinor > charge.data.amount.amountMinor - heldMinor) {
      return decline('invalid_amount', carrierRawCodes.refundAmountInvalid);
    }
    return undefined;
  }

  #refundsMinor(chargeReference: string, statuses: readonly string[]): bigint {
    let totalMinor = 0n;
    for (const child of this.#vendor.childrenOf(chargeReference)) {
      if (child.data.operation === 'refund' && statuses.includes(child.state.status)) {
        totalMinor += child.data.amount.amountMinor;
      }
    }
    return totalMinor;
  }

  #statusOf(record: SimulatedRecord<CarrierRecordData>): CarrierStatus {
    const data = record.data;
    if (data.operation === 'refund') {
      return { operation: 'refund', chargeReference: data.chargeReference, amount: data.amount };
    }
    const refundedMinor = this.#refundsMinor(record.reference, ['succeeded']);
    return {
      operation: 'charge',
      msisdn: data.msisdn,
      amount: data.amount,
      refundedAmount: money(refundedMinor, data.amount.currency),
    };
  }
}

export const carrierSimulatorDefinition: ConnectorDefinition<CarrierSimulator> = CarrierSimulator;

/** Builds one of the presets; the usual way to get a carrier simulator. */
export function createCarrierSimulator(
  preset: keyof typeof carrierSimulatorPresets = 'ukWithRefunds',
): CarrierSimulator {
  return CarrierSimulator.create(carrierSimulatorPresets[preset]);
}

function assertPositive(amount: Money): void {
  assert(amount.amountMinor > 0n, `amount must be positive, got ${amount.amountMinor}`);
}

function chargeData(record: SimulatedRecord<CarrierRecordData>): { msisdn: string; amount: Money } {
  const data = record.data;
  assert(data.operation === 'charge', `reference ${record.reference} is a ${data.operation}, not a charge`);
  return data;
}

function refundData(record: SimulatedRecord<CarrierRecordData>): { chargeReference: string; amount: Money } {
  const data = record.data;
  assert(data.operation === 'refund', `reference ${record.reference} is a ${data.operation}, not a refund`);
  return data;
}
