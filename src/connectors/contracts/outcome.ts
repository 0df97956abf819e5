/**
 * The five-valued outcome every connector operation returns (STYLE.md §3). The status says what Payloom
 * may conclude; the raw code and message say what the vendor (or the transport) actually said, and are
 * always kept so an operator can read the original answer.
 *
 * - `succeeded`: the vendor did it.
 * - `declined`: the vendor refused it; nothing moved. A decline is a value, never an exception.
 * - `pending`: the vendor accepted it and will decide later; ask `status()`.
 * - `unknown`: the request may have reached the vendor but the answer was lost (timeout after sending,
 *   connection reset, a 5xx). Money may have moved: only `status()` can tell, never a blind retry.
 * - `not_sent`: the request certainly never reached the vendor (connection refused, aborted before
 *   sending); nothing happened, so sending it again with the same reference is safe.
 */
export const outcomeStatuses = ['succeeded', 'declined', 'pending', 'unknown', 'not_sent'] as const;
export type OutcomeStatus = (typeof outcomeStatuses)[number];

/**
 * Stable Payloom decline reasons, whatever the vendor's own codes. Products map these to their dialect's
 * codes; the vendor's raw code stays in `rawCode` for people. A closed list: adding one is an API change.
 */
export const declineReasons = [
  /** The payer's balance, credit or the phone bill's prepaid credit is too low. */
  'insufficient_funds',
  /** The payer's account, line or card is barred, lost, stolen or inactive. */
  'account_blocked',
  /** A spending, velocity or per-transaction limit was reached. */
  'limit_exceeded',
  /** No such account, MSISDN, meter or card at the vendor. */
  'invalid_account',
  /** The amount is below the minimum, the wrong currency, or more than can be captured or refunded. */
  'invalid_amount',
  /** The referenced charge, authorization, agreement or reservation does not allow this (missing,
   * declined, voided, already captured, not yet approved). */
  'invalid_state',
  /** The issuer or vendor refused without saying why. */
  'do_not_honor',
  'expired_card',
  /** The payer said no in their app. */
  'rejected_by_payer',
  /** The vendor does not offer this operation, currency or product. */
  'not_supported',
] as const;
export type DeclineReason = (typeof declineReasons)[number];

/** Longest raw message kept; vendors sometimes answer with a whole HTML error page. */
export const rawMessageLengthMax = 500;

/**
 * Raw codes a connector records when the vendor said nothing because the transport failed. They are the
 * same words in every connector so reconciliation and dashboards can read them.
 */
export const transportRawCodes = {
  /** No answer within the call's budget after the request was sent. */
  timeout: 'TIMEOUT',
  /** The vendor refused the connection: nothing was sent. */
  connectionRefused: 'ECONNREFUSED',
  /** The caller aborted before anything was sent. */
  abortedBeforeSend: 'ABORTED',
} as const;

/** What the vendor said, verbatim, whatever it meant. */
export interface RawAnswer {
  readonly rawCode: string;
  readonly rawMessage?: string;
  /** The vendor's own id for the operation, when it gave one. */
  readonly connectorReference?: string;
}

export interface OutcomeSucceeded<TData> extends RawAnswer {
  readonly status: 'succeeded';
  readonly data: TData;
}

export interface OutcomeDeclined extends RawAnswer {
  readonly status: 'declined';
  readonly declineReason: DeclineReason;
}

export interface OutcomePending extends RawAnswer {
  readonly status: 'pending';
}

export interface OutcomeUnknown extends RawAnswer {
  readonly status: 'unknown';
}

export interface OutcomeNotSent extends RawAnswer {
  readonly status: 'not_sent';
}

export type ConnectorOutcome<TData> =
  OutcomeSucceeded<TData> | OutcomeDeclined | OutcomePending | OutcomeUnknown | OutcomeNotSent;

export function succeeded<TData>(data: TData, raw: RawAnswer): OutcomeSucceeded<TData> {
  return { status: 'succeeded', data, ...keptRaw(raw) };
}

export function declined(declineReason: DeclineReason, raw: RawAnswer): OutcomeDeclined {
  return { status: 'declined', declineReason, ...keptRaw(raw) };
}

export function pending(raw: RawAnswer): OutcomePending {
  return { status: 'pending', ...keptRaw(raw) };
}

export function unknown(raw: RawAnswer): OutcomeUnknown {
  return { status: 'unknown', ...keptRaw(raw) };
}

export function notSent(raw: RawAnswer): OutcomeNotSent {
  return { status: 'not_sent', ...keptRaw(raw) };
}

export function isSucceeded<TData>(outcome: ConnectorOutcome<TData>): outcome is OutcomeSucceeded<TData> {
  return outcome.status === 'succeeded';
}

export function isDeclined<TData>(outcome: ConnectorOutcome<TData>): outcome is OutcomeDeclined {
  return outcome.status === 'declined';
}

/** The vendor decided: the attempt can be closed. */
export function isFinal<TData>(
  outcome: ConnectorOutcome<TData>,
): outcome is OutcomeSucceeded<TData> | OutcomeDeclined {
  return outcome.status === 'succeeded' || outcome.status === 'declined';
}

/** Money may have moved or may still move: hand it to reconciliation (`status()`), never retry blindly. */
export function needsReconciliation<TData>(
  outcome: ConnectorOutcome<TData>,
): outcome is OutcomePending | OutcomeUnknown {
  return outcome.status === 'pending' || outcome.status === 'unknown';
}

/** Nothing reached the vendor: sending the same request again with the same reference is safe. */
export function isSafeToResend<TData>(outcome: ConnectorOutcome<TData>): outcome is OutcomeNotSent {
  return outcome.status === 'not_sent';
}

export function isDeclineReason(value: unknown): value is DeclineReason {
  return typeof value === 'string' && (declineReasons as readonly string[]).includes(value);
}

function keptRaw(raw: RawAnswer): RawAnswer {
  const kept: { rawCode: string; rawMessage?: string; connectorReference?: string } = {
    rawCode: raw.rawCode,
  };
  if (raw.rawMessage !== undefined) kept.rawMessage = raw.rawMessage.slice(0, rawMessageLengthMax);
  if (raw.connectorReference !== undefined) kept.connectorReference = raw.connectorReference;
  return kept;
}
