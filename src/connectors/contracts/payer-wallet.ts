import type { Currency, Money } from '../../core/money/money.js';
import type { CallOptions } from './call-budget.js';
import type { StatusRequest } from './connector.js';
import type { ConnectorOutcome } from './outcome.js';

/**
 * A payer's wallet app (MobilePay-like). The payer approves an agreement in the app; on an approved
 * agreement the merchant either asks the payer to approve a payment (which reserves it once approved)
 * or reserves directly where the payer allowed it; a reservation is captured once (at most what was
 * reserved) or cancelled; captured money can be refunded.
 *
 * Approval requests are `pending` until the payer acts: `status()` tells when they did (`succeeded`
 * for approved, `declined` with `rejected_by_payer` for rejected).
 */

/** MobilePay's limit for agreement and payment descriptions. */
export const walletDescriptionLengthMax = 60;

export interface WalletAgreementApprovalRequest {
  /** Our reference (the agreement's id): the vendor's idempotency key. */
  readonly reference: string;
  /** The payer's phone number, international digits, no `+`: `4520000000`. */
  readonly payerId: string;
  readonly description: string;
  readonly currency: Currency;
  /** The recurring amount shown to the payer; absent for agreements with variable amounts. */
  readonly amount?: Money;
}

export interface WalletAgreement {
  readonly payerId: string;
  readonly currency: Currency;
  readonly amount?: Money;
}

export interface WalletPaymentRequest {
  readonly reference: string;
  /** Our reference of an approved agreement. */
  readonly agreementReference: string;
  readonly amount: Money;
  readonly description: string;
}

/** A reservation: money held on the payer's account until captured or cancelled. */
export interface WalletReservation {
  readonly agreementReference: string;
  readonly amount: Money;
}

export interface WalletCaptureRequest {
  readonly reference: string;
  /** Our reference of the reservation (the payment approval or the reserve). */
  readonly reservationReference: string;
  /** At most what was reserved; the rest is released. One capture per reservation. */
  readonly amount: Money;
}

export interface WalletCapture {
  readonly reservationReference: string;
  readonly amount: Money;
}

export interface WalletCancelRequest {
  readonly reference: string;
  readonly reservationReference: string;
}

export interface WalletCancel {
  readonly reservationReference: string;
  /** What was released. */
  readonly amount: Money;
}

export interface WalletRefundRequest {
  readonly reference: string;
  readonly reservationReference: string;
  /** At most what was captured and not yet refunded. */
  readonly amount: Money;
}

export interface WalletRefund {
  readonly reservationReference: string;
  readonly amount: Money;
}

export interface WalletAgreementStatus extends WalletAgreement {
  readonly operation: 'agreement';
}

export interface WalletReservationStatus {
  readonly operation: 'reservation';
  readonly agreementReference: string;
  readonly amount: Money;
  readonly capturedAmount: Money;
  readonly refundedAmount: Money;
  readonly cancelled: boolean;
  /** Reserved after the payer approved it in the app, rather than reserved directly. */
  readonly approvedByPayer: boolean;
}

export interface WalletCaptureStatus {
  readonly operation: 'capture';
  readonly reservationReference: string;
  readonly amount: Money;
}

export interface WalletCancelStatus {
  readonly operation: 'cancel';
  readonly reservationReference: string;
}

export interface WalletRefundStatus {
  readonly operation: 'refund';
  readonly reservationReference: string;
  readonly amount: Money;
}

export type WalletStatus =
  | WalletAgreementStatus
  | WalletReservationStatus
  | WalletCaptureStatus
  | WalletCancelStatus
  | WalletRefundStatus;

export interface PayerWalletCapabilities {
  readonly currencies: readonly Currency[];
  /** Largest single reservation, in minor units of any of `currencies`. */
  readonly perTransactionMaxMinor: bigint;
  readonly partialCaptureSupported: boolean;
  readonly refundsSupported: boolean;
  readonly partialRefundsSupported: boolean;
}

export interface PayerWalletConnector {
  readonly id: string;
  capabilities(): PayerWalletCapabilities;
  /** Asks the payer to accept an agreement in their app; `pending` until they act. */
  requestAgreementApproval(
    request: WalletAgreementApprovalRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<WalletAgreement>>;
  /** Asks the payer to approve one payment on an agreement; once approved, the amount is reserved. */
  requestPaymentApproval(
    request: WalletPaymentRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<WalletReservation>>;
  /** Reserves on an approved agreement without asking the payer (auto-reserve). */
  reserve(request: WalletPaymentRequest, options: CallOptions): Promise<ConnectorOutcome<WalletReservation>>;
  capture(request: WalletCaptureRequest, options: CallOptions): Promise<ConnectorOutcome<WalletCapture>>;
  cancel(request: WalletCancelRequest, options: CallOptions): Promise<ConnectorOutcome<WalletCancel>>;
  refund(request: WalletRefundRequest, options: CallOptions): Promise<ConnectorOutcome<WalletRefund>>;
  /**
   * Any previous operation by OUR reference; used by reconciliation, never repeats it. `not_sent` means
   * the wallet has no record of the reference; `unknown` means the lookup itself failed.
   */
  status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<WalletStatus>>;
}
