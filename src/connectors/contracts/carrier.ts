import type { Currency, Money } from '../../core/money/money.js';
import type { CallOptions } from './call-budget.js';
import type { StatusRequest } from './connector.js';
import type { ConnectorOutcome } from './outcome.js';

/**
 * Carrier billing: charging a purchase to a phone bill (or prepaid credit). The product has already
 * verified the payer (PIN); a connector only moves money. Refunds exist only where the carrier allows
 * them, which `capabilities()` says.
 */

/** Carriers print a short line on the bill; longer descriptions are the caller's bug. */
export const carrierDescriptionLengthMax = 100;

export interface CarrierChargeRequest {
  /** Our reference (the payment attempt's id): the vendor's idempotency key. */
  readonly reference: string;
  /** International format, digits only, no `+`: `447700900123`. */
  readonly msisdn: string;
  readonly amount: Money;
  /** Shown on the bill and in the confirmation SMS; 1..`carrierDescriptionLengthMax` characters. */
  readonly description: string;
  /** The merchant as the payer sees it on the bill, when the carrier prints one. */
  readonly merchantName?: string;
}

export interface CarrierCharge {
  readonly msisdn: string;
  readonly amount: Money;
}

export interface CarrierRefundRequest {
  readonly reference: string;
  /** Our reference of the charge being refunded. */
  readonly chargeReference: string;
  /** At most what is left of the charge; the whole charge when partial refunds are not supported. */
  readonly amount: Money;
}

export interface CarrierRefund {
  readonly chargeReference: string;
  readonly amount: Money;
}

export interface CarrierChargeStatus {
  readonly operation: 'charge';
  readonly msisdn: string;
  readonly amount: Money;
  /** Sum of the succeeded refunds of this charge. */
  readonly refundedAmount: Money;
}

export interface CarrierRefundStatus {
  readonly operation: 'refund';
  readonly chargeReference: string;
  readonly amount: Money;
}

export type CarrierStatus = CarrierChargeStatus | CarrierRefundStatus;

export interface CarrierCapabilities {
  readonly refundsSupported: boolean;
  /** Implies `refundsSupported`. */
  readonly partialRefundsSupported: boolean;
  /** A carrier bills one country's phone bills: usually exactly one currency. */
  readonly currencies: readonly Currency[];
  /** Largest single charge, in minor units of any of `currencies`. */
  readonly perTransactionMaxMinor: bigint;
}

export interface CarrierConnector {
  readonly id: string;
  capabilities(): CarrierCapabilities;
  charge(request: CarrierChargeRequest, options: CallOptions): Promise<ConnectorOutcome<CarrierCharge>>;
  refund(request: CarrierRefundRequest, options: CallOptions): Promise<ConnectorOutcome<CarrierRefund>>;
  /**
   * A previous charge or refund, by OUR reference; used by reconciliation, never charges. `not_sent`
   * means the carrier has no record of the reference; `unknown` means the lookup itself failed.
   */
  status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<CarrierStatus>>;
}
