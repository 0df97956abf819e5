import { assert } from '../../core/errors/errors.js';

/**
 * Every outbound call has a time budget (STYLE.md §13) and can be cancelled. The budget covers the
 * whole operation, including any retries a connector makes internally, so a caller knows the longest it
 * can wait. Running out of budget after sending is `unknown`; aborting before sending is `not_sent`.
 */
export interface CallOptions {
  readonly timeoutMs: number;
  /** Cancels the call early: process shutdown, or the caller's own, shorter deadline. */
  readonly signal?: AbortSignal;
}

/** SmartPay asks clients to wait at least 90 s; nothing we call should need longer than two minutes. */
export const callTimeoutMsMax = 120_000;
/** What a caller should pass when it has no reason to choose. */
export const callTimeoutMsDefault = 30_000;

/** One signal that fires at the caller's abort or when the budget runs out, whichever comes first. */
export function callSignal(options: CallOptions): AbortSignal {
  assert(
    Number.isInteger(options.timeoutMs) && options.timeoutMs > 0 && options.timeoutMs <= callTimeoutMsMax,
    `timeoutMs must be an integer in 1..${callTimeoutMsMax}, got ${options.timeoutMs}`,
  );
  const timeout = AbortSignal.timeout(options.timeoutMs);
  return options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
}

/** True when the caller gave up before the call started: nothing may be sent. */
export function abortedBeforeSend(options: CallOptions): boolean {
  return options.signal?.aborted === true;
}

/** Resolves when the signal fires; never rejects, so a wait cannot escape as an exception. */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
