import { Type } from 'typebox';
import { assert } from '../../../core/errors/errors.js';
import type { CallOptions } from '../../contracts/call-budget.js';
import {
  parseConnectorConfig,
  type ConnectorDefinition,
  type StatusRequest,
} from '../../contracts/connector.js';
import { declined, succeeded, type ConnectorOutcome } from '../../contracts/outcome.js';
import {
  SimulatedVendor,
  SimulatorScript,
  fingerprintOf,
  lookupScriptableOutcomes,
  scriptedOutcomes,
  stableHex,
} from '../../contracts/simulator.js';
import type {
  FundingReservation,
  FundingSourceConnector,
  FundingSourceFinalizeRequest,
  FundingSourceReserveRequest,
} from '../contract.js';
import { fundingDeclineRaw, fundingReserveBehaviour, fundingSourceRawCodes } from './magic-values.js';

export const FundingSourceSimulatorConfigSchema = Type.Object({}, { additionalProperties: false });

export type FundingSourceOperation = 'reserveFunds' | 'status';

interface ReservationData {
  readonly reserveFundsTxnRef: string;
  readonly reserveAmount: FundingReservation['reserveAmount'];
}

/**
 * A deterministic bank (see `magic-values.ts`): reservations are remembered by our reference, so a
 * repeat never reserves twice and `status()` knows the truth behind a lost answer. Confirm and release
 * are applied once; `finalizedCount` lets tests see that.
 */
export class FundingSourceSimulator implements FundingSourceConnector {
  static readonly id = 'funding-source-simulator';
  static readonly configSchema = FundingSourceSimulatorConfigSchema;

  static create(config: unknown): FundingSourceSimulator {
    parseConnectorConfig(FundingSourceSimulator.id, FundingSourceSimulatorConfigSchema, config);
    return new FundingSourceSimulator();
  }

  readonly id = FundingSourceSimulator.id;
  readonly script = new SimulatorScript<FundingSourceOperation>({
    untargeted: ['reserveFunds'],
    allowed: { reserveFunds: scriptedOutcomes, status: lookupScriptableOutcomes },
  });
  readonly #vendor = new SimulatedVendor<FundingSourceOperation, ReservationData>({
    connectorReferencePrefix: 'simbank',
    succeeded: fundingSourceRawCodes.reserved,
    pending: fundingSourceRawCodes.processing,
    notFound: fundingSourceRawCodes.notFound,
    declineRaw: fundingDeclineRaw,
    defaultDeclineReason: 'do_not_honor',
    script: this.script,
  });
  readonly #final = new Map<string, 'confirmed' | 'released'>();

  async reserveFunds(
    request: FundingSourceReserveRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<FundingReservation>> {
    assert(request.reserveAmount.amountMinor > 0n, 'reserveAmount must be positive');
    const source = request.accountIdentifier ?? request.sourceIdentifier;
    return this.#vendor.perform({
      operation: 'reserveFunds',
      reference: request.reference,
      fingerprint: fingerprintOf({
        source,
        amountMinor: request.reserveAmount.amountMinor,
        currency: request.reserveAmount.currency,
      }),
      options,
      magic: fundingReserveBehaviour(source),
      data: {
        reserveFundsTxnRef: `rf${stableHex(`reserve:${request.reference}`)}`,
        reserveAmount: request.reserveAmount,
      },
      present: (record) => this.#reservation(record.reference, record.data),
    });
  }

  async finalize(
    request: FundingSourceFinalizeRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<FundingReservation>> {
    const current = await this.status({ reference: request.reference }, options);
    if (current.status !== 'succeeded') return current;
    const wanted = request.action === 'confirm' ? 'confirmed' : 'released';
    const done = this.#final.get(request.reference);
    if (done !== undefined && done !== wanted) {
      return declined('invalid_state', fundingSourceRawCodes.invalidState);
    }
    this.#final.set(request.reference, wanted);
    return succeeded({ ...current.data, state: wanted }, fundingSourceRawCodes.reserved);
  }

  async status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<FundingReservation>> {
    return this.#vendor.lookup('status', request.reference, options, (record) =>
      this.#reservation(record.reference, record.data),
    );
  }

  /** How a reservation ended, for tests: `undefined` while it is only reserved. */
  finalized(reference: string): 'confirmed' | 'released' | undefined {
    return this.#final.get(reference);
  }

  get recordCount(): number {
    return this.#vendor.recordCount;
  }

  reset(): void {
    this.#vendor.reset();
    this.#final.clear();
  }

  #reservation(reference: string, data: ReservationData): FundingReservation {
    return { ...data, state: this.#final.get(reference) ?? 'reserved' };
  }
}

export const fundingSourceSimulatorDefinition: ConnectorDefinition<FundingSourceSimulator> =
  FundingSourceSimulator;

export function createFundingSourceSimulator(): FundingSourceSimulator {
  return FundingSourceSimulator.create({});
}
