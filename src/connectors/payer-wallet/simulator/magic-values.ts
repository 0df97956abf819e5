import type { DeclineReason } from '../../contracts/outcome.js';
import {
  answerWith,
  decline,
  type RawCode,
  type SimulatedBehaviour,
  type SimulatedDecline,
} from '../../contracts/simulator.js';

/**
 * The payer wallet simulator's magic values: the last three digits of the payer's phone number decide
 * how the payer (and their bank) behave. Any number works; Danish-looking `4520000000`-`4520000999` are
 * the examples. Payment approvals and reservations on an agreement follow the agreement's payer.
 * Capture, cancel and refund have no magic: they follow the wallet's rules unless a script says otherwise.
 */
export const walletMagicPayers = {
  /** Any suffix not listed below: approves at the first `status()` after a request; reserves succeed. */
  approves: '4520000000',
  /** Rejects every approval request (`rejected_by_payer`) at the first `status()`. */
  rejects: '4520000001',
  /** Never answers: approval requests stay `pending` until `approve()` or `reject()` is called. */
  neverAnswers: '4520000002',
  /** Approves agreements, but has no money: payment approvals settle declined and reserves are declined
   * (`insufficient_funds`). */
  insufficientFunds: '4520000003',
  /** Requests' answers are lost (`unknown`) although the wallet recorded them; `status()` tells the truth. */
  unknownButRecorded: '4520000004',
  /** Connection refused: `not_sent`, nothing recorded, no trace. */
  notSent: '4520000005',
  /** No answer until the budget runs out or it is aborted, then `unknown`; the request WAS recorded. */
  hangs: '4520000006',
  /** The payer's wallet is blocked: every request is declined at once (`account_blocked`). */
  blocked: '4520000007',
} as const;

/**
 * Raw codes in MobilePay Subscriptions' style (`0` accepted/reserved, `40000` agreement rejected by user,
 * `50001` payment rejected by user, `50003` agreement not active, `50006` declined, `50009` declined
 * due to user status, `60002` refund exceeds the original, `60003` payment not found). `Pending`,
 * `NotFound`, `NoUser`, `Currency` and `Limit` are the simulator's own words.
 */
export const walletRawCodes = {
  accepted: { rawCode: '0', rawMessage: 'Accepted' },
  pending: { rawCode: 'Pending', rawMessage: 'Waiting for the payer' },
  notFound: { rawCode: 'NotFound', rawMessage: 'No agreement or payment with this external id' },
  agreementRejected: { rawCode: '40000', rawMessage: 'Rejected by user.' },
  paymentRejected: { rawCode: '50001', rawMessage: 'Rejected by user.' },
  agreementNotActive: { rawCode: '50003', rawMessage: 'Declined: agreement is not Active' },
  declined: { rawCode: '50006', rawMessage: 'Declined' },
  noFunds: { rawCode: '50006', rawMessage: 'Declined: insufficient funds on the payer account' },
  userStatus: { rawCode: '50009', rawMessage: 'Declined due to user status' },
  refundExceeds: { rawCode: '60002', rawMessage: 'Sum of refunds exceeds the original payment' },
  paymentNotFound: { rawCode: '60003', rawMessage: 'Payment not found or not captured' },
  noUser: { rawCode: 'NoUser', rawMessage: 'No wallet user with this phone number' },
  currency: { rawCode: 'Currency', rawMessage: 'Currency does not match the agreement' },
  limit: { rawCode: 'Limit', rawMessage: 'Amount exceeds the payment limit' },
  notSupported: { rawCode: 'NotSupported', rawMessage: 'Not available for this merchant' },
} as const satisfies Record<string, RawCode>;

export function walletDeclineRaw(reason: DeclineReason): RawCode {
  switch (reason) {
    case 'rejected_by_payer':
      return walletRawCodes.paymentRejected;
    case 'insufficient_funds':
      return walletRawCodes.noFunds;
    case 'account_blocked':
      return walletRawCodes.userStatus;
    case 'invalid_account':
      return walletRawCodes.noUser;
    case 'invalid_state':
      return walletRawCodes.agreementNotActive;
    case 'invalid_amount':
      return walletRawCodes.currency;
    case 'limit_exceeded':
      return walletRawCodes.limit;
    case 'not_supported':
      return walletRawCodes.notSupported;
    default:
      return walletRawCodes.declined;
  }
}

const walletDecline = (reason: DeclineReason): SimulatedDecline => decline(reason, walletDeclineRaw(reason));

const magicSuffixLength = 3;

/** What is asked of the payer. */
export type WalletRequestKind = 'agreement_approval' | 'payment_approval' | 'reserve';

/** How the payer `payerId` (and the wallet between us and them) treats a request, by the last three digits. */
export function walletMagicBehaviour(payerId: string, kind: WalletRequestKind): SimulatedBehaviour {
  const approved = { status: 'succeeded' } as const;
  // Approval requests always wait for the payer; a reserve is answered at once.
  const asked = kind === 'reserve' ? approved : ({ status: 'pending', settlesAs: approved } as const);
  const rejected =
    kind === 'agreement_approval' ? walletRawCodes.agreementRejected : walletRawCodes.paymentRejected;
  switch (payerId.slice(-magicSuffixLength)) {
    case '001':
      return kind === 'reserve'
        ? answerWith(walletDecline('rejected_by_payer'))
        : answerWith({ status: 'pending', settlesAs: decline('rejected_by_payer', rejected) });
    case '002':
      return kind === 'reserve'
        ? answerWith(approved)
        : answerWith({ status: 'pending', settlesAs: { status: 'never' } });
    case '003':
      if (kind === 'agreement_approval') return answerWith(asked);
      return kind === 'reserve'
        ? answerWith(walletDecline('insufficient_funds'))
        : answerWith({ status: 'pending', settlesAs: walletDecline('insufficient_funds') });
    case '004':
      return { transport: 'lose_answer', decision: asked, applied: true };
    case '005':
      return { transport: 'refuse', decision: asked, applied: false };
    case '006':
      return { transport: 'hang', decision: asked, applied: true };
    case '007':
      return answerWith(walletDecline('account_blocked'));
    default:
      return answerWith(asked);
  }
}
