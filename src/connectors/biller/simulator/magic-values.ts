import type { DeclineReason } from '../../contracts/outcome.js';
import {
  answerWith,
  decline,
  type RawCode,
  type SimulatedBehaviour,
  type SimulatedDecline,
} from '../../contracts/simulator.js';

/**
 * The biller simulator's magic values: the last four digits of the account number decide. Validation
 * only ever declines for `0001` and `0002`, so every vend behaviour can be reached through a validated
 * account. Any other account is valid, with a holder name (and, for postpaid products, a balance due)
 * derived from the number, so the same account always shows the same name.
 */
export const billerMagicAccounts = {
  /** Any suffix not listed below: valid, and vends succeed at once. */
  valid: '1000000000',
  /** No such account at the biller (validation and vend). */
  invalidAccount: '1000000001',
  /** The account exists but is inactive (validation and vend). */
  blocked: '1000000002',
  /** Vend `pending`; the first `status()` finds it vended. */
  vendPendingThenSucceeds: '1000000003',
  /** Vend answer lost (`unknown`) although the biller vended; `status()` tells the truth. */
  vendUnknownButVended: '1000000004',
  /** Vend connection refused: `not_sent`, nothing vended, no trace. */
  vendNotSent: '1000000005',
  /** Vend gets no answer until the budget runs out or it is aborted, then `unknown`; it WAS vended. */
  vendHangs: '1000000006',
  /** Vend `pending`; the first `status()` finds that the supplier failed it. */
  vendPendingThenDeclines: '1000000007',
  /** Vend declined: our float with the biller is too low. */
  vendInsufficientFunds: '1000000008',
  /** The biller is offline: validation and vend are declined `not_supported` with `4010` (Payd: HTTP 202). */
  billerOffline: '1000000009',
  /** The account is in arrears (50.00); its minimum purchase is the arrears. */
  arrears: '1000000010',
  /** The account's minimum purchase is 1000.00: smaller amounts are declined `invalid_amount` (`2050`). */
  highMinimum: '1000000011',
  /**
   * Vend declined with a Payd Transact Result code: any account ending in `9` and the code, e.g.
   * `…92213` (invalid MSISDN). Validation still succeeds, so the failure shows only at the vend.
   */
  vendFailsWith: (code: string) => `10000${9}${code}`,
} as const;

/** Transact Result codes a vend can be made to fail with (`…9<code>`), and the decline reason each means. */
export const billerVendFailureCodes: Readonly<Record<string, { message: string; reason: DeclineReason }>> = {
  '2201': { message: 'Supplier unable to complete the transaction', reason: 'do_not_honor' },
  '2210': { message: 'Invalid data format / validation error', reason: 'do_not_honor' },
  '2212': { message: 'Invalid amount', reason: 'invalid_amount' },
  '2213': { message: 'Invalid MSISDN', reason: 'invalid_account' },
  '2214': { message: 'Invalid recharge / unable to recharge', reason: 'do_not_honor' },
  '2221': { message: 'Merchant insufficient funds', reason: 'insufficient_funds' },
  '2225': { message: 'System volumes exceeded', reason: 'limit_exceeded' },
  '2226': { message: 'Problem processing the transaction', reason: 'do_not_honor' },
  '2239': { message: 'Timeout connecting to supplier', reason: 'do_not_honor' },
  '2242': { message: 'Maximum transactions per time per MSISDN exceeded', reason: 'limit_exceeded' },
};

/** Arrears of the `…0010` account and the minimum of the `…0011` account, in minor units. */
export const billerArrearsMinor = 5_000n;
export const billerHighMinimumMinor = 100_000n;

/** The simulated catalogue; amounts are minor units of the simulator's configured currency. */
export const billerSimulatorProducts = [
  {
    productCode: 'ELECTRICITY',
    name: 'Prepaid electricity',
    kind: 'prepaid_token',
    amountMinMinor: 1_000n,
    amountMaxMinor: 300_000n,
  },
  {
    productCode: 'WATER',
    name: 'Municipal water bill',
    kind: 'postpaid_bill',
    amountMinMinor: 100n,
    amountMaxMinor: 1_000_000n,
  },
  {
    productCode: 'TV',
    name: 'Satellite TV subscription (smart card)',
    kind: 'postpaid_bill',
    amountMinMinor: 1_000n,
    amountMaxMinor: 500_000n,
  },
  {
    productCode: 'AIRTIME',
    name: 'Prepaid airtime',
    kind: 'voucher',
    amountMinMinor: 200n,
    amountMaxMinor: 100_000n,
  },
  {
    productCode: 'DATA',
    name: 'Data bundle',
    kind: 'voucher',
    amountMinMinor: 200n,
    amountMaxMinor: 100_000n,
  },
  {
    productCode: 'VOUCHER',
    name: 'Entertainment voucher',
    kind: 'voucher',
    amountMinMinor: 500n,
    amountMaxMinor: 100_000n,
  },
] as const;

/**
 * Raw codes from Clickatell Payd's errors table (`2010` insufficient funds, `2030` account not mapped,
 * `2040` max amount, `2050` below min, `2080` account inactive, `2201` supplier unable, `2210` invalid
 * format, `4010` service not found). `0000` is success; `PENDING` and `NOT_FOUND` are the simulator's
 * words for Payd's lookup statuses.
 */
export const billerRawCodes = {
  success: { rawCode: '0000', rawMessage: 'Transaction successful' },
  processing: { rawCode: 'PENDING', rawMessage: 'Processing request' },
  notFound: { rawCode: 'NOT_FOUND', rawMessage: 'client txn ref not found' },
  insufficientFunds: { rawCode: '2010', rawMessage: 'Insufficient funds' },
  accountNotMapped: { rawCode: '2030', rawMessage: 'Account not mapped' },
  maxAmountExceeded: { rawCode: '2040', rawMessage: 'Maximum amount exceeded' },
  belowMinimum: { rawCode: '2050', rawMessage: 'Amount below minimum' },
  accountInactive: { rawCode: '2080', rawMessage: 'Account inactive' },
  supplierUnable: { rawCode: '2201', rawMessage: 'Supplier unable to process' },
  invalidFormat: { rawCode: '2210', rawMessage: 'Invalid format' },
  serviceNotFound: { rawCode: '4010', rawMessage: 'Service not found - (610)' },
} as const satisfies Record<string, RawCode>;

export function billerDeclineRaw(reason: DeclineReason): RawCode {
  switch (reason) {
    case 'insufficient_funds':
      return billerRawCodes.insufficientFunds;
    case 'account_blocked':
      return billerRawCodes.accountInactive;
    case 'invalid_account':
      return billerRawCodes.accountNotMapped;
    case 'limit_exceeded':
      return billerRawCodes.maxAmountExceeded;
    case 'invalid_amount':
      return billerRawCodes.belowMinimum;
    case 'not_supported':
      return billerRawCodes.serviceNotFound;
    default:
      return billerRawCodes.supplierUnable;
  }
}

const billerDecline = (reason: DeclineReason): SimulatedDecline => decline(reason, billerDeclineRaw(reason));

const magicSuffixLength = 4;

/** Validation's verdict on an account by its last four digits: only these two ever decline. */
export function billerAccountDecline(accountNumber: string): SimulatedDecline | undefined {
  switch (accountNumber.slice(-magicSuffixLength)) {
    case '0001':
      return billerDecline('invalid_account');
    case '0002':
      return billerDecline('account_blocked');
    case '0009':
      return billerDecline('not_supported');
    default:
      return undefined;
  }
}

/** What the biller does with a vend to `accountNumber`, by its last four digits. */
export function billerVendBehaviour(accountNumber: string): SimulatedBehaviour {
  const accountDecline = billerAccountDecline(accountNumber);
  if (accountDecline) return answerWith(accountDecline);
  const vended = { status: 'succeeded' } as const;
  switch (accountNumber.slice(-magicSuffixLength)) {
    case '0003':
      return answerWith({ status: 'pending', settlesAs: vended });
    case '0004':
      return { transport: 'lose_answer', decision: vended, applied: true };
    case '0005':
      return { transport: 'refuse', decision: vended, applied: false };
    case '0006':
      return { transport: 'hang', decision: vended, applied: true };
    case '0007':
      return answerWith({
        status: 'pending',
        settlesAs: decline('do_not_honor', billerRawCodes.supplierUnable),
      });
    case '0008':
      return answerWith(billerDecline('insufficient_funds'));
    default: {
      const failure = /9(22\d\d)$/.exec(accountNumber)?.[1];
      const known = failure === undefined ? undefined : billerVendFailureCodes[failure];
      if (failure !== undefined && known) {
        return answerWith(decline(known.reason, { rawCode: failure, rawMessage: known.message }));
      }
      return answerWith(vended);
    }
  }
}
