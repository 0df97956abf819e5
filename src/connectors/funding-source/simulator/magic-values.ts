import type { DeclineReason } from '../../contracts/outcome.js';
import {
  answerWith,
  decline,
  type RawCode,
  type SimulatedBehaviour,
  type SimulatedDecline,
} from '../../contracts/simulator.js';

/**
 * The funding-source simulator's magic values: the last four characters of the source (the buyer's
 * `accountIdentifier` when given, else `sourceIdentifier`) decide. A source ending in one of Payd's
 * bank-side codes (`2010` … `2090`) is declined with that code; `0004` loses the answer after reserving
 * (`unknown`, `status()` finds it reserved); `0005` refuses the connection (`not_sent`). Anything else
 * is reserved at once.
 */
export const fundingSourceRawCodes = {
  reserved: { rawCode: '0000', rawMessage: 'Funds reserved' },
  processing: { rawCode: 'PENDING', rawMessage: 'Processing request' },
  notFound: { rawCode: 'NOT_FOUND', rawMessage: 'Reservation not found' },
  '2010': { rawCode: '2010', rawMessage: 'Insufficient funds' },
  '2020': { rawCode: '2020', rawMessage: 'Invalid auth code or unknown source' },
  '2030': { rawCode: '2030', rawMessage: 'Account not mapped' },
  '2040': { rawCode: '2040', rawMessage: 'Maximum amount exceeded' },
  '2050': { rawCode: '2050', rawMessage: 'Amount below minimum' },
  '2060': { rawCode: '2060', rawMessage: 'Internal timeout' },
  '2070': { rawCode: '2070', rawMessage: 'Source blacklisted' },
  '2080': { rawCode: '2080', rawMessage: 'Account inactive' },
  '2090': { rawCode: '2090', rawMessage: 'Unknown error' },
  invalidState: { rawCode: '2090', rawMessage: 'Reservation already finalized the other way' },
} as const satisfies Record<string, RawCode>;

export const bankDeclineCodes = [
  '2010',
  '2020',
  '2030',
  '2040',
  '2050',
  '2060',
  '2070',
  '2080',
  '2090',
] as const;
export type BankDeclineCode = (typeof bankDeclineCodes)[number];

export const bankCodeReasons: Readonly<Record<BankDeclineCode, DeclineReason>> = {
  '2010': 'insufficient_funds',
  '2020': 'invalid_account',
  '2030': 'invalid_account',
  '2040': 'limit_exceeded',
  '2050': 'invalid_amount',
  '2060': 'do_not_honor',
  '2070': 'account_blocked',
  '2080': 'account_blocked',
  '2090': 'do_not_honor',
};

export function fundingDeclineRaw(reason: DeclineReason): RawCode {
  switch (reason) {
    case 'insufficient_funds':
      return fundingSourceRawCodes['2010'];
    case 'invalid_account':
      return fundingSourceRawCodes['2030'];
    case 'limit_exceeded':
      return fundingSourceRawCodes['2040'];
    case 'invalid_amount':
      return fundingSourceRawCodes['2050'];
    case 'account_blocked':
      return fundingSourceRawCodes['2080'];
    default:
      return fundingSourceRawCodes['2090'];
  }
}

/** Sources that show each behaviour (any prefix works; these are the documented examples). */
export const fundingMagicSources = {
  reserved: '27820000001',
  insufficientFunds: '27820002010',
  invalidAuth: '27820002020',
  notMapped: '27820002030',
  maxExceeded: '27820002040',
  belowMinimum: '27820002050',
  internalTimeout: '27820002060',
  blacklisted: '27820002070',
  inactive: '27820002080',
  unknownError: '27820002090',
  answerLost: '27820000004',
  notSent: '27820000005',
} as const;

export function fundingDecline(source: string): SimulatedDecline | undefined {
  const suffix = source.slice(-4);
  if (!(bankDeclineCodes as readonly string[]).includes(suffix)) return undefined;
  const code = suffix as BankDeclineCode;
  return decline(bankCodeReasons[code], fundingSourceRawCodes[code]);
}

export function fundingReserveBehaviour(source: string): SimulatedBehaviour {
  const refusal = fundingDecline(source);
  if (refusal) return answerWith(refusal);
  const reserved = { status: 'succeeded' } as const;
  switch (source.slice(-4)) {
    case '0004':
      return { transport: 'lose_answer', decision: reserved, applied: true };
    case '0005':
      return { transport: 'refuse', decision: reserved, applied: false };
    default:
      return answerWith(reserved);
  }
}
