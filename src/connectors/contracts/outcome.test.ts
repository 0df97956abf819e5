import { describe, expect, it } from 'vitest';
import {
  declineReasons,
  declined,
  isDeclineReason,
  isDeclined,
  isFinal,
  isSafeToResend,
  isSucceeded,
  needsReconciliation,
  notSent,
  pending,
  rawMessageLengthMax,
  succeeded,
  unknown,
  type ConnectorOutcome,
} from './outcome.js';

const raw = { rawCode: '00', rawMessage: 'Approved', connectorReference: 'v_1' };

describe('connector outcomes', () => {
  it('keeps the raw code, message and connector reference on every status', () => {
    const outcomes: ConnectorOutcome<{ n: number }>[] = [
      succeeded({ n: 1 }, raw),
      declined('insufficient_funds', raw),
      pending(raw),
      unknown(raw),
      notSent(raw),
    ];
    for (const outcome of outcomes) expect(outcome).toMatchObject(raw);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'succeeded',
      'declined',
      'pending',
      'unknown',
      'not_sent',
    ]);
  });

  it('tells what the caller may do next: close, reconcile, or resend', () => {
    const cases = [
      [succeeded(1, raw), { final: true, reconcile: false, resend: false }],
      [declined('do_not_honor', raw), { final: true, reconcile: false, resend: false }],
      [pending(raw), { final: false, reconcile: true, resend: false }],
      [unknown(raw), { final: false, reconcile: true, resend: false }],
      [notSent(raw), { final: false, reconcile: false, resend: true }],
    ] as const;
    for (const [outcome, expected] of cases) {
      expect(
        { final: isFinal(outcome), reconcile: needsReconciliation(outcome), resend: isSafeToResend(outcome) },
        outcome.status,
      ).toEqual(expected);
    }
    const outcome: ConnectorOutcome<number> = succeeded(7, raw);
    if (isSucceeded(outcome)) expect(outcome.data).toBe(7);
    expect(isDeclined(declined('expired_card', raw))).toBe(true);
  });

  it('clips a vendor’s oversized message and omits what the vendor did not give', () => {
    const long = unknown({ rawCode: '502', rawMessage: '<html>'.padEnd(5_000, 'x') });
    expect(long.rawMessage).toHaveLength(rawMessageLengthMax);
    expect(Object.keys(notSent({ rawCode: 'ECONNREFUSED' }))).toEqual(['status', 'rawCode']);
  });

  it('recognises exactly the closed list of decline reasons', () => {
    for (const reason of declineReasons) expect(isDeclineReason(reason)).toBe(true);
    for (const other of ['declined', '', 'INSUFFICIENT_FUNDS', 51])
      expect(isDeclineReason(other)).toBe(false);
  });
});
