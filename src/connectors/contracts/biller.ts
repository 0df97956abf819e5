import type { Currency, Money } from '../../core/money/money.js';
import type { CallOptions } from './call-budget.js';
import type { StatusRequest } from './connector.js';
import type { ConnectorOutcome } from './outcome.js';

/**
 * Bill payment: paying a biller (electricity, water, TV) on behalf of a payer. The merchant validates
 * the account first, shows the holder's name and what is due, then vends; the vend's result is the
 * biller's receipt, and for prepaid products a token (an electricity token to type into the meter).
 */

export interface BillerProduct {
  /** The vendor's product code, as the merchant sends it. */
  readonly productCode: string;
  readonly name: string;
  /**
   * `prepaid_token`: the vend returns a token (electricity); `postpaid_bill`: the account has a balance
   * due; `voucher`: the vend returns a PIN and a serial number (airtime, data, vouchers).
   */
  readonly kind: 'prepaid_token' | 'postpaid_bill' | 'voucher';
  readonly amountMin: Money;
  readonly amountMax: Money;
}

export interface BillerCapabilities {
  readonly currencies: readonly Currency[];
  readonly products: readonly BillerProduct[];
}

export interface BillerValidateAccountRequest {
  /** Account, meter or smart-card number, as printed on the bill. */
  readonly accountNumber: string;
  readonly productCode: string;
  /** When given, the biller also checks this amount against the account's limits. */
  readonly amount?: Money;
}

export interface BillerAccount {
  readonly accountNumber: string;
  readonly productCode: string;
  /** Shown to the payer to confirm they are paying the right account. */
  readonly holderName: string;
  /** What the biller says is owed; absent for prepaid products. */
  readonly balanceDue?: Money;
  readonly amountMin: Money;
  readonly amountMax: Money;
  /** What the biller knows of the customer, when it says (Payd `customerInfo`). */
  readonly customer?: { readonly address: string; readonly phone: string; readonly district: string };
  /** The account's tariff (e.g. `Residential`), for utilities. */
  readonly tariff?: string;
  /** Overdue amount on the account; a purchase may have to cover it (see `amountMin`). */
  readonly arrears?: Money;
  /** The meter number, for prepaid electricity. */
  readonly meterNumber?: string;
}

export interface BillerVendRequest {
  /** Our reference (the payment attempt's id): the vendor's idempotency key. */
  readonly reference: string;
  readonly accountNumber: string;
  readonly productCode: string;
  readonly amount: Money;
}

export interface BillerVend {
  readonly accountNumber: string;
  readonly productCode: string;
  readonly amount: Money;
  /** The biller's receipt number, printed on the payer's receipt. */
  readonly receiptNumber: string;
  /** Prepaid products only: the token the payer enters (e.g. a 20-digit electricity token), or a voucher PIN. */
  readonly token?: string;
  /** Vouchers: the voucher's serial number. */
  readonly serialNumber?: string;
  /** Prepaid electricity: the units bought, as the biller prints them (e.g. `36.0 kWh`). */
  readonly units?: string;
}

export interface BillerConnector {
  readonly id: string;
  capabilities(): BillerCapabilities;
  /** Read-only: moves no money, so it takes no reference; `not_sent` and `unknown` may simply be retried. */
  validateAccount(
    request: BillerValidateAccountRequest,
    options: CallOptions,
  ): Promise<ConnectorOutcome<BillerAccount>>;
  vend(request: BillerVendRequest, options: CallOptions): Promise<ConnectorOutcome<BillerVend>>;
  /**
   * A previous vend by OUR reference; used by reconciliation, never vends. `not_sent` means the biller
   * has no record of the reference; `unknown` means the lookup itself failed.
   */
  status(request: StatusRequest, options: CallOptions): Promise<ConnectorOutcome<BillerVend>>;
}
