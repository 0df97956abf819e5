import { assert } from '../errors/errors.js';

/**
 * When to try a callback again. The Standard Webhooks example schedule (reliability.md A2, B4): the
 * first attempt at once, then these delays after each failure, about 75.6 hours in all (Stripe-like
 * "3 days"), each with ±20 % jitter so a receiver that comes back after an outage is not hit by every
 * queued delivery in the same second. After the last attempt the delivery is `failed`.
 */
export const retryDelaysSeconds = [
  5, // attempt 2
  5 * 60, // attempt 3
  30 * 60, // attempt 4
  2 * 60 * 60, // attempt 5
  5 * 60 * 60, // attempt 6
  10 * 60 * 60, // attempt 7
  14 * 60 * 60, // attempt 8
  20 * 60 * 60, // attempt 9
  24 * 60 * 60, // attempt 10
] as const;

/** The first attempt plus one per delay. */
export const deliveryAttemptsMax = retryDelaysSeconds.length + 1;
export const retryJitterRatio = 0.2;
/** A receiver's `Retry-After` can push one retry out this far and no further. */
export const retryAfterSecondsMax = 24 * 60 * 60;
/** Sum of the delays without jitter: 272,105 s ≈ 75.6 h. */
export const retryHorizonSeconds = retryDelaysSeconds.reduce((sum, delay) => sum + delay, 0);

export interface RetryDelayOptions {
  /** From the failed attempt's `Retry-After` (429/5xx): wait at least this long, up to the cap. */
  readonly retryAfterSeconds?: number;
  /** Uniform in [0, 1), e.g. `Math.random`; injected so tests are deterministic. */
  readonly random: () => number;
  /** A callback format's own schedule instead of `retryDelaysSeconds`. */
  readonly delays?: readonly number[];
}

/**
 * Seconds to wait after attempt `attemptNumber` (1-based) failed before the next one, or `undefined`
 * when that was the last attempt and the delivery has failed for good.
 */
export function nextAttemptDelaySeconds(
  attemptNumber: number,
  options: RetryDelayOptions,
): number | undefined {
  assert(Number.isSafeInteger(attemptNumber) && attemptNumber >= 1, 'attempt numbers start at 1');
  const baseSeconds = (options.delays ?? retryDelaysSeconds)[attemptNumber - 1];
  if (baseSeconds === undefined) return undefined;
  const sample = options.random();
  assert(sample >= 0 && sample < 1, 'random() must return a number in [0, 1)');
  const jitteredSeconds = Math.round(baseSeconds * (1 + retryJitterRatio * (2 * sample - 1)));
  const { retryAfterSeconds } = options;
  if (retryAfterSeconds === undefined) return jitteredSeconds;
  assert(
    Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0,
    'Retry-After must be a non-negative number of seconds',
  );
  return Math.max(jitteredSeconds, Math.min(Math.ceil(retryAfterSeconds), retryAfterSecondsMax));
}
