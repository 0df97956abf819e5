/**
 * Time comes from a clock service so tests (and sandbox test clocks) can move it. Decisions that must
 * agree across processes (expiry, idempotency retention) read time from the database instead.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that moves only when told to; for tests. */
export class ManualClock implements Clock {
  #nowMs: number;
  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.#nowMs = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#nowMs);
  }
  advanceSeconds(seconds: number): void {
    this.#nowMs += seconds * 1000;
  }
  set(to: Date | string): void {
    this.#nowMs = new Date(to).getTime();
  }
}
