import { describe, expect, it } from 'vitest';
import { anchorOf, cyclePlan, pauseCredit, type Terms } from '../../src/products/subscriptions/schedule.js';

function terms(start: string, zone: string, overrides: Partial<Terms> = {}): Terms {
  return {
    timezone: zone,
    startAt: anchorOf(start, zone),
    trial: null,
    occurrence: 1,
    unit: 'month',
    prepaid: true,
    ...overrides,
  };
}

describe('billing schedule', () => {
  it('31 January + 1 month is the last day of February, and + 2 months is 31 March again', () => {
    const t = terms('2030-01-31T12:00:00+00:00', 'UTC');
    expect([0, 1, 2, 3].map((k) => cyclePlan(t, k).billingDate)).toEqual([
      '2030-01-31',
      '2030-02-28',
      '2030-03-31',
      '2030-04-30',
    ]);
    expect(cyclePlan(terms('2032-01-31T12:00:00+00:00', 'UTC'), 1).billingDate).toBe('2032-02-29');
  });

  it('keeps the local time of day across a DST change and moves a time in the DST gap forward', () => {
    const berlin = terms('2030-03-01T09:00:00+01:00', 'Europe/Berlin');
    expect(cyclePlan(berlin, 1).chargeAt.toISOString()).toBe('2030-04-01T07:00:00.000Z'); // 09:00 CEST
    // 10 March 2030, 02:00 → 03:00 in New York: 02:30 does not exist that day.
    const ny = terms('2030-03-09T02:30:00-05:00', 'America/New_York', { unit: 'day' });
    expect(cyclePlan(ny, 1).chargeAt.toISOString()).toBe('2030-03-10T07:30:00.000Z'); // 03:30 EDT
    expect(cyclePlan(ny, 2).chargeAt.toISOString()).toBe('2030-03-11T06:30:00.000Z'); // 02:30 EDT again
  });

  it('charges prepaid plans at the trial end and post-paid plans at the end of the first paid period', () => {
    const trial = { period: 14, unit: 'day' as const };
    const pre = terms('2030-01-01T10:00:00+01:00', 'Europe/Berlin', { trial });
    expect(cyclePlan(pre, 0)).toMatchObject({
      billingDate: '2030-01-15',
      periodStart: '2030-01-15',
      periodEnd: '2030-02-14',
    });
    const post = terms('2030-01-01T10:00:00+01:00', 'Europe/Berlin', { trial, prepaid: false });
    expect(cyclePlan(post, 0)).toMatchObject({
      billingDate: '2030-02-15',
      periodStart: '2030-01-15',
      periodEnd: '2030-02-14',
    });
  });

  it('credits the unused paid days of a prepaid period on pause, and charges the active days of a post-paid one', () => {
    // Period 15 July – 15 August (31 days); paused on 20 July: 5 days active, 26 unused.
    const pre = terms('2030-01-15T10:00:00+02:00', 'Europe/Berlin');
    expect(pauseCredit(pre, new Date('2030-07-20T12:00:00Z'), 3100n)).toBe(2600n); // 3100 × 26 / 31
    const post = terms('2030-01-15T10:00:00+02:00', 'Europe/Berlin', { prepaid: false });
    expect(pauseCredit(post, new Date('2030-07-20T12:00:00Z'), 3100n)).toBe(-500n); // 3100 × 5 / 31
    expect(pauseCredit(pre, new Date('2029-12-01T00:00:00Z'), 3100n)).toBe(0n);
  });
});
