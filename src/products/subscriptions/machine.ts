/**
 * Declared state machines (STYLE.md §2) of the subscription product; README.md lists every status.
 * Every status change in SQL is guarded by the `from` statuses listed here (`UPDATE … WHERE status IN`).
 */
export const subscriptionStatuses = ['created', 'active', 'paused', 'canceled', 'finished'] as const;
export type SubscriptionStatus = (typeof subscriptionStatuses)[number];

export type SubscriptionEvent = 'card_stored' | 'pause' | 'resume' | 'cancel' | 'last_cycle_done';

export const subscriptionTransitions: Readonly<
  Record<SubscriptionEvent, { readonly from: readonly SubscriptionStatus[]; readonly to: SubscriptionStatus }>
> = {
  /** The customer stored a card in the widget: the pending billing agreement becomes active. */
  card_stored: { from: ['created'], to: 'active' },
  /** PATCH status "paused": only active subscriptions pause. */
  pause: { from: ['active'], to: 'paused' },
  /** PATCH status "active" on a paused subscription. */
  resume: { from: ['paused'], to: 'active' },
  /** DELETE: no further cycles; a cycle already being charged finishes. */
  cancel: { from: ['created', 'active', 'paused'], to: 'canceled' },
  /** The last cycle of a limited plan reached a final status. */
  last_cycle_done: { from: ['active'], to: 'finished' },
};

export function canTransition(status: SubscriptionStatus, event: SubscriptionEvent): boolean {
  return subscriptionTransitions[event].from.includes(status);
}

/**
 * Billing cycles: `Scheduled` (created ahead, waiting for its time) → `Processing` (an attempt is being
 * charged or its outcome is being reconciled) → `Captured` | `Retrying` (declined, the retry policy has
 * attempts left) | `Failed` (declined after the last attempt, or a decline that allows no retry) |
 * `Error` (could not be processed after the last attempt). `Retrying` → `Processing` at the next
 * attempt; `Failed` / `Error` → `Processing` by a manual retry; `Scheduled` / `Retrying` → `Canceled`
 * when the subscription is paused or canceled before the charge.
 */
export const cycleStatuses = [
  'Scheduled',
  'Processing',
  'Retrying',
  'Captured',
  'Failed',
  'Error',
  'Canceled',
] as const;
export type CycleStatus = (typeof cycleStatuses)[number];

export const cycleTransitions: Readonly<Record<CycleStatus, readonly CycleStatus[]>> = {
  Scheduled: ['Processing', 'Canceled'],
  Processing: ['Captured', 'Retrying', 'Failed', 'Error'],
  Retrying: ['Processing', 'Canceled'],
  Captured: [],
  Failed: ['Processing'],
  Error: ['Processing'],
  Canceled: [],
};

/** Transaction `paymentStatus` values (lower case, as the vendor's sample). */
export const transactionStatuses = ['pending', 'captured', 'declined', 'error', 'unknown'] as const;
export type TransactionStatus = (typeof transactionStatuses)[number];
