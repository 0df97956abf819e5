import { describe, expect, it } from 'vitest';
import {
  deliveryAttemptsMax,
  nextAttemptDelaySeconds,
  retryAfterSecondsMax,
  retryDelaysSeconds,
  retryHorizonSeconds,
} from './schedule.js';

const middle = (): number => 0.5;
const lowest = (): number => 0;
const highest = (): number => 0.999_999;

/** Every delay of a delivery that fails every attempt, as the job runner would compute them. */
function allDelays(random: () => number): number[] {
  const delays: number[] = [];
  for (let attempt = 1; ; attempt += 1) {
    const delay = nextAttemptDelaySeconds(attempt, { random });
    if (delay === undefined) return delays;
    delays.push(delay);
  }
}

describe('retry schedule', () => {
  it('without jitter is the Standard Webhooks example: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h', () => {
    expect(allDelays(middle)).toEqual([5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400]);
    expect(deliveryAttemptsMax).toBe(10);
    expect(retryHorizonSeconds).toBe(272_105);
    expect(retryHorizonSeconds / 3600).toBeCloseTo(75.6, 1);
  });

  it('gives up after the tenth attempt, whatever Retry-After says', () => {
    expect(nextAttemptDelaySeconds(9, { random: middle })).toBe(86_400);
    expect(nextAttemptDelaySeconds(10, { random: middle })).toBeUndefined();
    expect(nextAttemptDelaySeconds(11, { random: middle })).toBeUndefined();
    expect(nextAttemptDelaySeconds(10, { random: middle, retryAfterSeconds: 60 })).toBeUndefined();
  });

  it('jitter stays within ±20 % of each delay', () => {
    retryDelaysSeconds.forEach((base, index) => {
      const attempt = index + 1;
      expect(nextAttemptDelaySeconds(attempt, { random: lowest })).toBe(Math.round(base * 0.8));
      expect(nextAttemptDelaySeconds(attempt, { random: highest })).toBe(Math.round(base * 1.2));
      for (let sample = 0; sample < 200; sample += 1) {
        const delay = nextAttemptDelaySeconds(attempt, { random: Math.random });
        expect(delay).toBeGreaterThanOrEqual(Math.round(base * 0.8));
        expect(delay).toBeLessThanOrEqual(Math.round(base * 1.2));
      }
    });
  });

  it('the whole horizon stays between 60 h and 91 h (≈ 3 days, as Stripe)', () => {
    const sum = (delays: number[]): number => delays.reduce((total, delay) => total + delay, 0);
    expect(sum(allDelays(lowest))).toBeGreaterThanOrEqual(0.8 * retryHorizonSeconds - 10);
    expect(sum(allDelays(highest))).toBeLessThanOrEqual(1.2 * retryHorizonSeconds + 10);
    expect(sum(allDelays(lowest))).toBeGreaterThan(60 * 3600);
    expect(sum(allDelays(highest))).toBeLessThan(91 * 3600);
  });

  it('Retry-After raises a delay to at least its value, capped at 24 h, and never shortens one', () => {
    expect(nextAttemptDelaySeconds(1, { random: middle, retryAfterSeconds: 120 })).toBe(120);
    expect(nextAttemptDelaySeconds(1, { random: middle, retryAfterSeconds: 2.2 })).toBe(5);
    expect(nextAttemptDelaySeconds(3, { random: middle, retryAfterSeconds: 60 })).toBe(1800);
    expect(nextAttemptDelaySeconds(1, { random: middle, retryAfterSeconds: 30 * 86_400 })).toBe(
      retryAfterSecondsMax,
    );
    expect(nextAttemptDelaySeconds(1, { random: middle, retryAfterSeconds: 0 })).toBe(5);
  });

  it('rejects impossible inputs as broken invariants', () => {
    expect(() => nextAttemptDelaySeconds(0, { random: middle })).toThrow(/start at 1/);
    expect(() => nextAttemptDelaySeconds(1.5, { random: middle })).toThrow();
    expect(() => nextAttemptDelaySeconds(1, { random: () => 1 })).toThrow(/\[0, 1\)/);
    expect(() => nextAttemptDelaySeconds(1, { random: middle, retryAfterSeconds: -1 })).toThrow();
  });
});
