import { DateTime, IANAZone } from 'luxon';
import { multiplyRatio } from '../../core/money/money.js';

/**
 * Billing schedules in the subscription's IANA time zone (README.md "Billing schedule").
 *
 * - The anchor is `startDate` read in the subscription's zone; its local time of day is the charge time.
 * - A trial runs from the anchor for `trialDurationPeriod × trialDurationUnit`; paid periods start at the
 *   trial end (or at the anchor without a trial).
 * - Paid period k (k = 0, 1, …) runs from `paidAnchor + k × occurrence × unit` to the next one. Each is
 *   computed from the anchor, never from the previous period, so 31 January + 1 month is the last day
 *   of February and + 2 months is 31 March again.
 * - Prepaid plans charge at the start of a period, post-paid plans at its end.
 * - A local charge time that falls in a DST gap moves forward by the gap (luxon's rule).
 */
export type Unit = 'day' | 'month' | 'year';

export interface Terms {
  readonly timezone: string;
  readonly startAt: DateTime;
  readonly trial: { readonly period: number; readonly unit: Unit } | null;
  readonly occurrence: number;
  readonly unit: Unit;
  readonly prepaid: boolean;
}

export interface CyclePlan {
  readonly cycleNo: number;
  readonly chargeAt: Date;
  readonly billingDate: string;
  readonly periodStart: string;
  readonly periodEnd: string;
}

export function isTimezone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

function plus(base: DateTime, amount: number, unit: Unit): DateTime {
  switch (unit) {
    case 'day':
      return base.plus({ days: amount });
    case 'month':
      return base.plus({ months: amount });
    case 'year':
      return base.plus({ years: amount });
  }
}

/** The anchor as a wall-clock time in the zone (the date and time of day the merchant wrote). */
export function anchorOf(startDate: string, timezone: string): DateTime {
  return DateTime.fromISO(startDate, { setZone: true }).setZone(timezone);
}

export function trialEnd(terms: Terms): DateTime | null {
  return terms.trial ? plus(terms.startAt, terms.trial.period, terms.trial.unit) : null;
}

function paidAnchor(terms: Terms): DateTime {
  return trialEnd(terms) ?? terms.startAt;
}

/** The start of paid period k, in the zone, with DST gaps moved forward. */
export function periodStart(terms: Terms, k: number): DateTime {
  return plus(paidAnchor(terms), k * terms.occurrence, terms.unit);
}

export function cyclePlan(terms: Terms, k: number): CyclePlan {
  const start = periodStart(terms, k);
  const next = periodStart(terms, k + 1);
  const charge = terms.prepaid ? start : next;
  return {
    cycleNo: k,
    chargeAt: charge.toJSDate(),
    billingDate: charge.toISODate() ?? '',
    periodStart: start.toISODate() ?? '',
    periodEnd: next.minus({ days: 1 }).toISODate() ?? '',
  };
}

/** The first cycle number whose charge time is at or after `at` (used on resume). */
export function firstCycleAtOrAfter(terms: Terms, at: Date, fromK: number): number {
  let k = fromK;
  while (cyclePlan(terms, k).chargeAt.getTime() < at.getTime()) k++;
  return k;
}

/**
 * The pause adjustment (README.md "Pause and resume"): with the subscription paused at `pausedAt`
 * inside paid period k (start S, end E, D = E − S in days, A = pausedAt − S in whole days, the days it was
 * active):
 * - prepaid: the period was paid in advance; the D − A unused days are credited on the first cycle
 *   after the resume: credit = amount × (D − A) / D, rounded half-even.
 * - post-paid: the period was not paid (its charge fell in the pause); the A active days are charged on
 *   the first cycle after the resume: credit = −(amount × A / D).
 * A positive credit lowers, a negative one raises, the first charge after the resume (never below 0).
 */
export function pauseCredit(terms: Terms, pausedAt: Date, amountMinor: bigint): bigint {
  const at = DateTime.fromJSDate(pausedAt).setZone(terms.timezone);
  const first = paidAnchor(terms);
  if (at < first) return 0n; // paused during the trial: nothing paid, nothing used
  let k = 0;
  while (periodStart(terms, k + 1) <= at) k++;
  const start = periodStart(terms, k).startOf('day');
  const end = periodStart(terms, k + 1).startOf('day');
  const days = BigInt(Math.max(1, Math.round(end.diff(start, 'days').days)));
  const active = BigInt(
    Math.min(Number(days), Math.max(0, Math.floor(at.startOf('day').diff(start, 'days').days))),
  );
  if (terms.prepaid) return multiplyRatio(amountMinor, days - active, days, 'half_even');
  return -multiplyRatio(amountMinor, active, days, 'half_even');
}
