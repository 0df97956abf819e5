import type { DeclineReason } from '../../contracts/outcome.js';
import {
  answerWith,
  decline,
  type RawCode,
  type SimulatedBehaviour,
  type SimulatedDecline,
} from '../../contracts/simulator.js';

/**
 * The carrier simulator's magic values: the last three digits of the MSISDN decide what happens to a
 * charge. Any MSISDN works; the UK's drama range 447700900000-447700900999 (Ofcom, never assigned to a
 * real line) is the one to use in examples. Refunds have no magic: they follow the carrier's rules
 * (capabilities, amounts left) unless a script says otherwise.
 */
export const carrierMagicMsisdns = {
  /** Any suffix not listed below: charged at once. */
  succeeds: '447700900000',
  insufficientFunds: '447700900001',
  accountBlocked: '447700900002',
  /** `pending`; the first `status()` finds it billed. */
  pendingThenSucceeds: '447700900003',
  /** The answer is lost (`unknown`) but the phone WAS billed; `status()` tells the truth. */
  unknownButCharged: '447700900004',
  /** Connection refused: `not_sent`, nothing billed, no trace. */
  notSent: '447700900005',
  /** No answer until the call's budget runs out or it is aborted, then `unknown`; the phone WAS billed. */
  hangs: '447700900006',
  /** Monthly spending limit of the line reached. */
  limitExceeded: '447700900007',
  /** `pending`; the first `status()` finds it declined for insufficient credit. */
  pendingThenDeclines: '447700900008',
  /** The network does not know the MSISDN. */
  notRecognised: '447700900009',
} as const;

/**
 * Raw codes in the style of Infomedia's `transactionStatus` (`00` billed, `AA` insufficient credit, `A5`
 * operator bar, `A3` not recognised, `A6` spending limit, `01` billing failed). `P1`, `NF`, `CU` and
 * `R0`-`R3` are the simulator's own: Infomedia documents no codes for them.
 */
export const carrierRawCodes = {
  billed: { rawCode: '00', rawMessage: 'Successfully billed' },
  insufficientCredit: { rawCode: 'AA', rawMessage: 'Insufficient credit' },
  operatorBar: { rawCode: 'A5', rawMessage: 'Operator bar on this MSISDN' },
  notRecognised: { rawCode: 'A3', rawMessage: 'MSISDN not recognised by network' },
  spendingLimit: { rawCode: 'A6', rawMessage: 'MSISDN expenditure limit reached' },
  billingFailed: { rawCode: '01', rawMessage: 'Billing attempt failed' },
  inProgress: { rawCode: 'P1', rawMessage: 'Billing in progress' },
  notFound: { rawCode: 'NF', rawMessage: 'No transaction with this reference' },
  currencyNotBilled: { rawCode: 'CU', rawMessage: 'Currency not billed by this carrier' },
  refundsNotOffered: { rawCode: 'R0', rawMessage: 'Refunds are not available on this carrier network' },
  chargeNotRefundable: { rawCode: 'R1', rawMessage: 'No billed charge with this reference' },
  refundAmountInvalid: { rawCode: 'R2', rawMessage: 'Refund amount exceeds what is left of the charge' },
  partialRefundsNotOffered: { rawCode: 'R3', rawMessage: 'Only full refunds are available' },
} as const satisfies Record<string, RawCode>;

export function carrierDeclineRaw(reason: DeclineReason): RawCode {
  switch (reason) {
    case 'insufficient_funds':
      return carrierRawCodes.insufficientCredit;
    case 'account_blocked':
      return carrierRawCodes.operatorBar;
    case 'invalid_account':
      return carrierRawCodes.notRecognised;
    case 'limit_exceeded':
      return carrierRawCodes.spendingLimit;
    case 'not_supported':
      return carrierRawCodes.refundsNotOffered;
    case 'invalid_state':
      return carrierRawCodes.chargeNotRefundable;
    case 'invalid_amount':
      return carrierRawCodes.refundAmountInvalid;
    default:
      return carrierRawCodes.billingFailed;
  }
}

const carrierDecline = (reason: DeclineReason): SimulatedDecline =>
  decline(reason, carrierDeclineRaw(reason));

const magicSuffixLength = 3;

/** What the carrier does with a charge to `msisdn`, by its last three digits. */
export function carrierMagicBehaviour(msisdn: string): SimulatedBehaviour {
  const billed = { status: 'succeeded' } as const;
  switch (msisdn.slice(-magicSuffixLength)) {
    case '001':
      return answerWith(carrierDecline('insufficient_funds'));
    case '002':
      return answerWith(carrierDecline('account_blocked'));
    case '003':
      return answerWith({ status: 'pending', settlesAs: billed });
    case '004':
      return { transport: 'lose_answer', decision: billed, applied: true };
    case '005':
      return { transport: 'refuse', decision: billed, applied: false };
    case '006':
      return { transport: 'hang', decision: billed, applied: true };
    case '007':
      return answerWith(carrierDecline('limit_exceeded'));
    case '008':
      return answerWith({ status: 'pending', settlesAs: carrierDecline('insufficient_funds') });
    case '009':
      return answerWith(carrierDecline('invalid_account'));
    default:
      return answerWith(billed);
  }
}
