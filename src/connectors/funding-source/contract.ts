import type { Money } from '../../core/money/money.js';
import type { CallOptions } from '../contracts/call-budget.js';
import type { StatusRequest } from '../contracts/connector.js';
import type { ConnectorOutcome } from '../contracts/outcome.js';

/**
 * Funding source: the bank (or wallet) that holds the buyer's money for a bill payment. Payloom asks it
 * to reserve the purchase (Payd's "Reserve Funds" bank interface), and once the vend is decided it
 * confirms (the bank debits the buyer) or releases the reservation. The bank answers in Payd's bank-side
 * codes, kept verbatim as `rawCode`: `0000` reserved, `2010` insufficient funds, `2020` invalid auth code
 * or unknown source, `2030` account not mapped, `2040` maximum exceeded, `2050` below minimum, `2060`
 * internal timeout, `2070` source blacklisted, `2080` account inactive, `2090` unknown error.
 */
export interface FundingSourceReserveRequest {
  /** Our reference (the payment id): the bank's idempotency key for this reservation. */
  readonly reference: string;
  /** The purchase's Payd references, passed on to the bank as documented. */
  readonly raasTxnRef: string;
  readonly clientTxnRef: string;
  readonly productId: number;
  readonly productTypeId: number;
  readonly purchaseAmount: Money;
  /** What is reserved: purchase plus fee. */
  readonly reserveAmount: Money;
  readonly feeAmount: Money;
  readonly sourceIdentifier: string;
  readonly targetIdentifier: string;
  readonly accountIdentifier?: string;
  readonly authCode?: string;
}

export interface FundingReservation {
  /** The bank's reference for the reservation (Payd `reserveFundsTxnRef`). */
  readonly reserveFundsTxnRef: string;
  readonly reserveAmount: Money;
  /** `reserved`, then `confirmed` (debited) or `released`. */
  readonly state: 'reserved' | 'confirmed' | 'released';
}

export interface FundingSourceFinalizeRequest {
  /** The reservation's reference (as given to `reserveFunds`). */
  readonly reference: string;
  /** `confirm`: the vend succeeded, debit the buyer; `release`: it failed, give the money back. */
  readonly action: 'confirm' | 'release';
}

export interface FundingSourceConnector {
  readonly id: string;
  /** Declined reservations are values with the bank's code in `rawCode`. */
  reserveFunds(
    request: FundingSourceReserveRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<FundingReservation>>;
  /**
   * Confirms or releases a reservation. Idempotent: repeating the same action answers the same; the
   * other action after one was applied is declined `invalid_state`.
   */
  finalize(
    request: FundingSourceFinalizeRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<FundingReservation>>;
  /** The reservation by our reference; never reserves. `not_sent`: the bank has no record of it. */
  status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<FundingReservation>>;
}
