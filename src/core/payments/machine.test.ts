import { describe, expect, it } from 'vitest';
import type { PaymentKind } from '../db/schema.js';
import { isTerminal, machineDiagram, paymentEvents, paymentStatuses, transition } from './machine.js';

const kinds: PaymentKind[] = ['sale', 'authorization', 'refund'];

describe('payment state machine', () => {
  it('walks every (kind, state, event) pair: each is a declared transition or a typed rejection', () => {
    let accepted = 0;
    for (const kind of kinds) {
      for (const from of paymentStatuses) {
        for (const event of paymentEvents) {
          const result = transition(kind, from, event);
          if (result.ok) {
            accepted++;
            expect(paymentStatuses).toContain(result.to);
          } else {
            expect(result.reason).toBe('invalid_state_transition');
          }
        }
      }
    }
    expect(accepted).toBe(33);
  });

  it('authorizations: captured, voided and expired only from authorized, and final', () => {
    expect(transition('authorization', 'pending', 'succeeded')).toEqual({ ok: true, to: 'authorized' });
    for (const [event, to] of [
      ['capture', 'captured'],
      ['void', 'voided'],
      ['expire', 'expired'],
    ] as const) {
      expect(transition('authorization', 'authorized', event)).toEqual({ ok: true, to });
      expect(transition('authorization', 'pending', event).ok).toBe(false);
      expect(isTerminal('authorization', to)).toBe(true);
      for (const next of paymentEvents) expect(transition('authorization', to, next).ok).toBe(false);
    }
  });

  it('sales and refunds: a lost answer is unknown and is settled by reconciliation, never re-sent', () => {
    for (const kind of ['sale', 'refund'] as const) {
      expect(transition(kind, 'pending', 'unknown')).toEqual({ ok: true, to: 'unknown' });
      expect(transition(kind, 'unknown', 'succeeded')).toEqual({ ok: true, to: 'succeeded' });
      expect(transition(kind, 'unknown', 'declined')).toEqual({ ok: true, to: 'failed' });
      expect(transition(kind, 'succeeded', 'succeeded').ok).toBe(false);
      expect(transition(kind, 'failed', 'succeeded').ok).toBe(false);
      expect(transition(kind, 'pending', 'capture').ok).toBe(false);
    }
  });

  it('draws its diagram from the table', () => {
    expect(machineDiagram('authorization')).toContain('authorized --> captured: capture');
  });
});
