import type { PaymentKind, PaymentStatus } from '../db/schema.js';

/**
 * The payment state machine as data (STYLE.md §2): per kind, per state, the events it accepts and the
 * state each leads to. `transition` is pure. Connector outcomes arrive as events named after the
 * five-valued outcome; operator and product actions are `capture`, `void` and `expire`.
 *
 *   authorization: pending → authorized → captured | voided | expired; pending → failed | unknown
 *   sale:          pending → succeeded | failed | unknown
 *   refund:        pending → succeeded | failed | unknown
 *   any unknown is settled by reconciliation: unknown → (authorized | succeeded) | failed
 */
export type PaymentEvent =
  'succeeded' | 'declined' | 'pending' | 'unknown' | 'not_sent' | 'capture' | 'void' | 'expire';

export const paymentEvents: readonly PaymentEvent[] = [
  'succeeded',
  'declined',
  'pending',
  'unknown',
  'not_sent',
  'capture',
  'void',
  'expire',
];
export const paymentStatuses: readonly PaymentStatus[] = [
  'pending',
  'authorized',
  'captured',
  'voided',
  'expired',
  'succeeded',
  'failed',
  'unknown',
];

type Table = Partial<Record<PaymentStatus, Partial<Record<PaymentEvent, PaymentStatus>>>>;

const connectorAnswers = (success: PaymentStatus): Partial<Record<PaymentEvent, PaymentStatus>> => ({
  succeeded: success,
  declined: 'failed',
  not_sent: 'failed',
  pending: 'pending',
  unknown: 'unknown',
});
const settlement = (success: PaymentStatus): Partial<Record<PaymentEvent, PaymentStatus>> => ({
  succeeded: success,
  declined: 'failed',
  not_sent: 'failed',
  unknown: 'unknown',
  pending: 'unknown',
});

export const paymentMachine: Readonly<Record<PaymentKind, Table>> = {
  authorization: {
    pending: connectorAnswers('authorized'),
    unknown: settlement('authorized'),
    authorized: { capture: 'captured', void: 'voided', expire: 'expired' },
  },
  sale: {
    pending: connectorAnswers('succeeded'),
    unknown: settlement('succeeded'),
  },
  refund: {
    pending: connectorAnswers('succeeded'),
    unknown: settlement('succeeded'),
  },
};

export type TransitionResult =
  | { readonly ok: true; readonly to: PaymentStatus }
  | { readonly ok: false; readonly reason: 'invalid_state_transition' };

export function transition(kind: PaymentKind, from: PaymentStatus, event: PaymentEvent): TransitionResult {
  const to = paymentMachine[kind][from]?.[event];
  return to === undefined ? { ok: false, reason: 'invalid_state_transition' } : { ok: true, to };
}

export function isTerminal(kind: PaymentKind, status: PaymentStatus): boolean {
  return Object.keys(paymentMachine[kind][status] ?? {}).length === 0;
}

/** A Mermaid diagram of the table, for the README (generated, never drawn by hand). */
export function machineDiagram(kind: PaymentKind): string {
  const lines = ['stateDiagram-v2'];
  for (const [from, events] of Object.entries(paymentMachine[kind])) {
    for (const [event, to] of Object.entries(events)) {
      if (to !== from) lines.push(`  ${from} --> ${to}: ${event}`);
    }
  }
  return lines.join('\n');
}
