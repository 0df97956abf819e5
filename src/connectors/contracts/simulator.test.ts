import { describe, expect, it } from 'vitest';
import { callSignal, callTimeoutMsMax, waitForAbort } from './call-budget.js';
import { isConnectorReference, referenceLengthMax } from './connector.js';
import { SimulatorScript, fingerprintOf, stableDigits, stableHex } from './simulator.js';

describe('simulator kit', () => {
  it('fingerprints parameters independently of key order, keeping types apart', () => {
    expect(fingerprintOf({ a: 1n, b: 'x' })).toBe(fingerprintOf({ b: 'x', a: 1n }));
    expect(fingerprintOf({ a: 1n })).not.toBe(fingerprintOf({ a: '1' }));
    expect(fingerprintOf({ a: undefined })).not.toBe(fingerprintOf({ a: '' }));
  });

  it('derives the same ids and digits from the same text, and different ones from other text', () => {
    expect(stableHex('pay_1')).toMatch(/^[0-9a-f]{16}$/);
    expect(stableHex('pay_1')).toBe(stableHex('pay_1'));
    expect(stableHex('pay_1')).not.toBe(stableHex('pay_2'));
    expect(stableDigits('x', 20)).toMatch(/^\d{20}$/);
    expect(stableDigits('x', 20)).toBe(stableDigits('x', 20));
  });

  it('hands script entries to the operation they aim at, untargeted ones to money-moving operations', () => {
    const script = new SimulatorScript<'pay' | 'status'>({
      untargeted: ['pay'],
      allowed: { pay: ['declined', 'unknown'], status: ['unknown'] },
    });
    script.nextOutcome('declined').nextOutcome('unknown', { operation: 'status' });
    expect(script.take('status')?.outcome).toBe('unknown');
    expect(script.take('status')).toBeUndefined();
    expect(script.take('pay')?.outcome).toBe('declined');
    expect(() => script.nextOutcome('pending')).toThrow(/cannot be scripted/);
  });

  it('bounds every call budget and references', async () => {
    expect(() => callSignal({ timeoutMs: callTimeoutMsMax + 1 })).toThrow(/timeoutMs/);
    expect(() => callSignal({ timeoutMs: 1.5 })).toThrow(/timeoutMs/);
    const controller = new AbortController();
    const signal = callSignal({ timeoutMs: callTimeoutMsMax, signal: controller.signal });
    controller.abort();
    await waitForAbort(signal);
    expect(signal.aborted).toBe(true);
    expect(isConnectorReference('pay_01J0ABC-x')).toBe(true);
    expect(isConnectorReference('a'.repeat(referenceLengthMax + 1))).toBe(false);
    expect(isConnectorReference('with space')).toBe(false);
  });
});
