import { AppError } from '../../../core/errors/errors.js';
import type { DeclineReason } from '../../contracts/outcome.js';
import {
  answerWith,
  decline,
  type RawCode,
  type SimulatedBehaviour,
  type SimulatedDecline,
} from '../../contracts/simulator.js';

/**
 * The card acquirer simulator's magic values are card numbers (Stripe's test PANs where Stripe has one
 * with the same meaning). The simulator never sees a PAN: the sandbox vault turns a PAN into a token
 * with `simulatorCardToken(pan)`, and the token carries only the brand, the last four digits and the
 * behaviour the number stands for. Any other Luhn-valid number approves.
 */
export const cardMagicNumbers = {
  /** Visa: approves everything. */
  visaSucceeds: '4242424242424242',
  /** Mastercard: approves everything. */
  mastercardSucceeds: '5555555555554444',
  /** Declined `do_not_honor` (ISO 8583 `05`). */
  doNotHonor: '4000000000000002',
  /** Declined `insufficient_funds` (`51`). */
  insufficientFunds: '4000000000009995',
  /** Declined `expired_card` (`54`). */
  expiredCard: '4000000000000069',
  /** Declined `account_blocked`: reported lost (`41`). */
  lostCard: '4000000000009987',
  /** Authorization `pending` (customer authentication, `1A`); the first `status()` finds it approved. */
  authenticationThenSucceeds: '4000000000003220',
  /** Authorization `pending`; the first `status()` finds the authentication failed (`do_not_honor`). */
  authenticationThenDeclines: '4000000000000135',
  /** Answer lost (`unknown`) although the acquirer authorized; `status()` tells the truth. */
  unknownButAuthorized: '4000000000000119',
  /** Connection refused: `not_sent`, nothing authorized, no trace. */
  notSent: '4000000000000101',
  /** No answer until the budget runs out or it is aborted, then `unknown`; it WAS authorized. */
  hangs: '4000000000000127',
  /** Approves customer-initiated authorizations; declines every merchant-initiated charge with
   * `insufficient_funds` (`51`), the usual cause of a failed billing cycle. */
  declinesMerchantInitiated: '4000000000000341',
  /** Approves customer-initiated authorizations; declines merchant-initiated charges with
   * `insufficient_funds` (`51`) for 2 days from the first one seen for the card, then approves them
   * (the short-of-funds card that recovers through the automatic retries). */
  merchantInitiatedShortForTwoDays: '4000000000009953',
  /** Approves customer-initiated authorizations; declines merchant-initiated charges as lost or stolen
   * (`account_blocked`, `41`): no retry is allowed. */
  merchantInitiatedLost: '4000000000000267',
  /** Approves customer-initiated authorizations; merchant-initiated charges are approved but the answer is
   * lost (`unknown`, `TIMEOUT`); `status()` tells the truth (reconciliation). */
  merchantInitiatedAnswerLost: '4000000000000309',
} as const;

/** Days `merchantInitiatedShortForTwoDays` keeps declining merchant-initiated charges. */
export const shortOfFundsDays = 2;

/** What a tokenized card does; the token's last segment. */
export const cardBehaviours = [
  'approve',
  'do_not_honor',
  'insufficient_funds',
  'expired_card',
  'lost_card',
  'authentication_then_approve',
  'authentication_then_decline',
  'answer_lost',
  'refused',
  'hang',
  'merchant_initiated_declined',
  'merchant_initiated_short_two_days',
  'merchant_initiated_lost',
  'merchant_initiated_answer_lost',
] as const;
export type CardBehaviour = (typeof cardBehaviours)[number];

const behaviourByNumber: ReadonlyMap<string, CardBehaviour> = new Map<string, CardBehaviour>([
  [cardMagicNumbers.doNotHonor, 'do_not_honor'],
  [cardMagicNumbers.insufficientFunds, 'insufficient_funds'],
  [cardMagicNumbers.expiredCard, 'expired_card'],
  [cardMagicNumbers.lostCard, 'lost_card'],
  [cardMagicNumbers.authenticationThenSucceeds, 'authentication_then_approve'],
  [cardMagicNumbers.authenticationThenDeclines, 'authentication_then_decline'],
  [cardMagicNumbers.unknownButAuthorized, 'answer_lost'],
  [cardMagicNumbers.notSent, 'refused'],
  [cardMagicNumbers.hangs, 'hang'],
  [cardMagicNumbers.declinesMerchantInitiated, 'merchant_initiated_declined'],
  [cardMagicNumbers.merchantInitiatedShortForTwoDays, 'merchant_initiated_short_two_days'],
  [cardMagicNumbers.merchantInitiatedLost, 'merchant_initiated_lost'],
  [cardMagicNumbers.merchantInitiatedAnswerLost, 'merchant_initiated_answer_lost'],
]);

export const cardBrands = ['visa', 'mastercard', 'amex', 'card'] as const;
export type CardBrand = (typeof cardBrands)[number];

export interface SimulatorCard {
  readonly brand: CardBrand;
  readonly last4: string;
  readonly behaviour: CardBehaviour;
}

const panLengthMin = 12;
const panLengthMax = 19;
const tokenPattern = /^simtok_(visa|mastercard|amex|card)_([0-9]{4})_([a-z_]+)$/;

/**
 * The sandbox vault's tokenizer for this simulator: `simtok_<brand>_<last4>_<behaviour>`, e.g.
 * `simtok_visa_4242_approve`. Nothing of the PAN beyond its last four digits survives, so two cards with
 * the same brand, last four and behaviour share a token, which a simulator does not mind.
 */
export function simulatorCardToken(pan: string): string {
  const digits = pan.replace(/[\s-]/g, '');
  if (
    !/^[0-9]+$/.test(digits) ||
    digits.length < panLengthMin ||
    digits.length > panLengthMax ||
    !luhnValid(digits)
  ) {
    throw new AppError('validation_failed', 'The card number is not valid.', { field: 'pan' });
  }
  const behaviour = behaviourByNumber.get(digits) ?? 'approve';
  return `simtok_${brandOf(digits)}_${digits.slice(-4)}_${behaviour}`;
}

/** The card behind a simulator token, or undefined for a token this simulator never issued. */
export function parseSimulatorCardToken(token: string): SimulatorCard | undefined {
  const match = tokenPattern.exec(token);
  if (!match) return undefined;
  const [, brand, last4, behaviour] = match;
  if (!isCardBrand(brand) || last4 === undefined || !isCardBehaviour(behaviour)) return undefined;
  return { brand, last4, behaviour };
}

/**
 * Raw codes are ISO 8583 response codes, as acquirers pass them on: `00` approved, `05` do not honor,
 * `12` invalid transaction, `13` invalid amount, `14` invalid card number, `1A` additional
 * authentication required, `25` unable to locate record, `41` lost card, `51` insufficient funds,
 * `54` expired card, `57` not permitted, `61` exceeds amount limit.
 */
export const cardRawCodes = {
  approved: { rawCode: '00', rawMessage: 'Approved' },
  doNotHonor: { rawCode: '05', rawMessage: 'Do not honor' },
  invalidTransaction: { rawCode: '12', rawMessage: 'Invalid transaction' },
  invalidAmount: { rawCode: '13', rawMessage: 'Invalid amount' },
  invalidCardNumber: { rawCode: '14', rawMessage: 'Invalid card number' },
  authenticationRequired: { rawCode: '1A', rawMessage: 'Additional customer authentication required' },
  recordNotFound: { rawCode: '25', rawMessage: 'Unable to locate record' },
  lostCard: { rawCode: '41', rawMessage: 'Lost card, pick up' },
  insufficientFunds: { rawCode: '51', rawMessage: 'Not sufficient funds' },
  expiredCard: { rawCode: '54', rawMessage: 'Expired card' },
  notPermitted: { rawCode: '57', rawMessage: 'Transaction not permitted to cardholder' },
  exceedsLimit: { rawCode: '61', rawMessage: 'Exceeds withdrawal amount limit' },
} as const satisfies Record<string, RawCode>;

export function cardDeclineRaw(reason: DeclineReason): RawCode {
  switch (reason) {
    case 'insufficient_funds':
      return cardRawCodes.insufficientFunds;
    case 'account_blocked':
      return cardRawCodes.lostCard;
    case 'expired_card':
      return cardRawCodes.expiredCard;
    case 'invalid_account':
      return cardRawCodes.invalidCardNumber;
    case 'limit_exceeded':
      return cardRawCodes.exceedsLimit;
    case 'invalid_amount':
      return cardRawCodes.invalidAmount;
    case 'invalid_state':
      return cardRawCodes.invalidTransaction;
    case 'not_supported':
      return cardRawCodes.notPermitted;
    default:
      return cardRawCodes.doNotHonor;
  }
}

const cardDecline = (reason: DeclineReason): SimulatedDecline => decline(reason, cardDeclineRaw(reason));

/** What the acquirer does with a payment on `card`; merchant-initiated charges skip authentication. */
export function cardMagicBehaviour(
  card: SimulatorCard,
  initiatedBy: 'customer' | 'merchant',
  shortOfFunds = false,
): SimulatedBehaviour {
  const approved = { status: 'succeeded' } as const;
  switch (card.behaviour) {
    case 'approve':
      return answerWith(approved);
    case 'do_not_honor':
      return answerWith(cardDecline('do_not_honor'));
    case 'insufficient_funds':
      return answerWith(cardDecline('insufficient_funds'));
    case 'expired_card':
      return answerWith(cardDecline('expired_card'));
    case 'lost_card':
      return answerWith(cardDecline('account_blocked'));
    case 'authentication_then_approve':
      return initiatedBy === 'merchant'
        ? answerWith(approved)
        : answerWith({ status: 'pending', settlesAs: approved });
    case 'authentication_then_decline':
      return initiatedBy === 'merchant'
        ? answerWith(approved)
        : answerWith({ status: 'pending', settlesAs: cardDecline('do_not_honor') });
    case 'answer_lost':
      return { transport: 'lose_answer', decision: approved, applied: true };
    case 'refused':
      return { transport: 'refuse', decision: approved, applied: false };
    case 'hang':
      return { transport: 'hang', decision: approved, applied: true };
    case 'merchant_initiated_declined':
      return initiatedBy === 'merchant'
        ? answerWith(cardDecline('insufficient_funds'))
        : answerWith(approved);
    case 'merchant_initiated_short_two_days':
      return initiatedBy === 'merchant' && shortOfFunds
        ? answerWith(cardDecline('insufficient_funds'))
        : answerWith(approved);
    case 'merchant_initiated_lost':
      return initiatedBy === 'merchant' ? answerWith(cardDecline('account_blocked')) : answerWith(approved);
    case 'merchant_initiated_answer_lost':
      return initiatedBy === 'merchant'
        ? { transport: 'lose_answer', decision: approved, applied: true }
        : answerWith(approved);
  }
}

function isCardBrand(value: string | undefined): value is CardBrand {
  return value !== undefined && (cardBrands as readonly string[]).includes(value);
}

function isCardBehaviour(value: string | undefined): value is CardBehaviour {
  return value !== undefined && (cardBehaviours as readonly string[]).includes(value);
}

function brandOf(digits: string): CardBrand {
  if (digits.startsWith('4')) return 'visa';
  const two = Number(digits.slice(0, 2));
  const four = Number(digits.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'mastercard';
  if (two === 34 || two === 37) return 'amex';
  return 'card';
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
