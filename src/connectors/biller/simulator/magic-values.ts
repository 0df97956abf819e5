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
} as const;

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
    default:
      return answerWith(vended);
  }
}
