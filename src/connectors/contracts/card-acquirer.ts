import type { Currency, Money } from '../../core/money/money.js';
import type { CallOptions } from './call-budget.js';
import type { StatusRequest } from './connector.js';
import type { ConnectorOutcome } from './outcome.js';

/**
 * Card acquiring. A card is always a vault token: the PAN never leaves the vault, and no connector
 * request or result carries one. A customer-initiated authorization (CIT) can store the card for later
 * merchant-initiated charges (MIT, e.g. subscription billing cycles), which cite the network
 * transaction id of that first authorization.
 */

export interface CardAuthorizeRequest {
  /** Our reference (the payment attempt's id): the vendor's idempotency key. */
  readonly reference: string;
  /** Vault token of the card. */
  readonly cardToken: string;
  /** Zero is a card verification: nothing is held, the card is checked and (if asked) stored. */
  readonly amount: Money;
  /** `automatic` captures at once (a sale); `manual` holds the amount until `capture` or `void`. */
  readonly captureMode: 'automatic' | 'manual';
  /** The payer agreed to later merchant-initiated charges: the result's network id anchors them. */
  readonly storeForMerchantInitiated: boolean;
  /** Statement descriptor text, when the acquirer supports one. */
  readonly description?: string;
}

export interface CardMerchantInitiatedRequest {
  readonly reference: string;
  readonly cardToken: string;
  readonly amount: Money;
  /** Network transaction id of the customer-initiated authorization that stored the card. */
  readonly previousNetworkTransactionId: string;
  /** When the merchant makes the charge (a test clock's time in the sandbox); defaults to now. */
  readonly initiatedAt?: Date;
  readonly description?: string;
}

/** A payment: an authorization (CIT) or a merchant-initiated charge (MIT, always captured). */
export interface CardPayment {
  readonly amount: Money;
  readonly captured: boolean;
  /** The scheme's id of this transaction; an MIT series cites the first one. */
  readonly networkTransactionId: string;
  readonly cardLast4: string;
  readonly cardBrand: string;
}

export interface CardCaptureRequest {
  readonly reference: string;
  /** Our reference of the authorization. */
  readonly authorizationReference: string;
  /** At most the authorized amount; the rest is released. One capture per authorization. */
  readonly amount: Money;
}

export interface CardCapture {
  readonly authorizationReference: string;
  readonly amount: Money;
}

export interface CardVoidRequest {
  readonly reference: string;
  readonly authorizationReference: string;
}

export interface CardVoid {
  readonly authorizationReference: string;
  /** What was released. */
  readonly amount: Money;
}

export interface CardRefundRequest {
  readonly reference: string;
  /** Our reference of the payment (a captured authorization or an MIT charge). */
  readonly paymentReference: string;
  /** At most what was captured and not yet refunded. */
  readonly amount: Money;
}

export interface CardRefund {
  readonly paymentReference: string;
  readonly amount: Money;
}

export interface CardPaymentStatus {
  readonly operation: 'payment';
  readonly initiatedBy: 'customer' | 'merchant';
  readonly amount: Money;
  readonly capturedAmount: Money;
  readonly refundedAmount: Money;
  readonly voided: boolean;
  readonly networkTransactionId: string;
  readonly cardLast4: string;
}

export interface CardCaptureStatus {
  readonly operation: 'capture';
  readonly authorizationReference: string;
  readonly amount: Money;
}

export interface CardVoidStatus {
  readonly operation: 'void';
  readonly authorizationReference: string;
}

export interface CardRefundStatus {
  readonly operation: 'refund';
  readonly paymentReference: string;
  readonly amount: Money;
}

export type CardStatus = CardPaymentStatus | CardCaptureStatus | CardVoidStatus | CardRefundStatus;

export interface CardAcquirerCapabilities {
  readonly currencies: readonly Currency[];
  /** Largest single payment, in minor units of any of `currencies`. */
  readonly perTransactionMaxMinor: bigint;
  /** A capture may be less than the authorization (the rest is released). */
  readonly partialCaptureSupported: boolean;
  readonly refundsSupported: boolean;
  readonly partialRefundsSupported: boolean;
  readonly merchantInitiatedSupported: boolean;
}

export interface CardAcquirerConnector {
  readonly id: string;
  capabilities(): CardAcquirerCapabilities;
  authorize(request: CardAuthorizeRequest, options: CallOptions): Promise<ConnectorOutcome<CardPayment>>;
  capture(request: CardCaptureRequest, options: CallOptions): Promise<ConnectorOutcome<CardCapture>>;
  void(request: CardVoidRequest, options: CallOptions): Promise<ConnectorOutcome<CardVoid>>;
  refund(request: CardRefundRequest, options: CallOptions): Promise<ConnectorOutcome<CardRefund>>;
  chargeMerchantInitiated(
    request: CardMerchantInitiatedRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<CardPayment>>;
  /**
   * Any previous operation by OUR reference; used by reconciliation, never repeats it. `not_sent` means
   * the acquirer has no record of the reference; `unknown` means the lookup itself failed.
   */
  status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<CardStatus>>;
}
