import { describe, expect, it } from 'vitest';
import {
  checkLookupReference,
  lookupReference,
  percentToPpm,
  ppmToPercent,
  pricingViolation,
  ratePart,
  termsFor,
} from './terms.js';

describe('bill-payment terms', () => {
  it('rounds the percentage part half up to the minor unit, once', () => {
    expect(ratePart(10_000n, 15_000)).toBe(150n); // 1.5 % of 100.00
    expect(ratePart(333n, 15_000)).toBe(5n); // 4.995 → 5
    expect(ratePart(330n, 15_000)).toBe(5n); // 4.95 → 5 (half up)
    expect(ratePart(329n, 15_000)).toBe(5n); // 4.935 → 5
    expect(ratePart(300n, 15_000)).toBe(5n); // 4.5 → 5
    expect(ratePart(299n, 15_000)).toBe(4n); // 4.485 → 4
    expect(ratePart(999_999_999_999n, 1_000_000)).toBe(999_999_999_999n);
    expect(ratePart(12_345n, 0)).toBe(0n);
  });

  it('derives reserve, vend, settlement and client share from the rules', () => {
    const terms = termsFor(
      {
        pricing: { type: 'single', amount: 10_000n },
        feeFixed: 150n,
        feeRatePpm: 5_000,
        shareFixed: 0n,
        shareRatePpm: 10_000,
      },
      10_000n,
    );
    expect(terms).toEqual({
      purchaseAmount: 10_000n,
      feeAmount: 200n,
      reserveAmount: 10_200n,
      vendAmount: 10_000n,
      settlementAmount: 10_100n,
      clientShareAmount: 100n,
    });
    const capped = termsFor(
      {
        pricing: { type: 'single', amount: 100n },
        feeFixed: 0n,
        feeRatePpm: 0,
        shareFixed: 500n,
        shareRatePpm: 0,
      },
      100n,
    );
    expect(capped.clientShareAmount).toBe(100n);
    expect(capped.settlementAmount).toBe(0n);
  });

  it('names the pricing violation: 2506 single price, 2509 below, 2510 above, 2511 increment', () => {
    expect(pricingViolation({ type: 'single', amount: 5_000n }, 5_000n)).toBeUndefined();
    expect(pricingViolation({ type: 'single', amount: 5_000n }, 4_999n)).toBe('2506');
    const range = { type: 'range' as const, minimumAmount: 500n, maximumAmount: 100_000n, increment: 100n };
    expect(pricingViolation(range, 500n)).toBeUndefined();
    expect(pricingViolation(range, 100_000n)).toBeUndefined();
    expect(pricingViolation(range, 499n)).toBe('2509');
    expect(pricingViolation(range, 100_001n)).toBe('2510');
    expect(pricingViolation(range, 550n)).toBe('2511');
  });

  it('reads percentages exactly, with at most four decimals', () => {
    expect(percentToPpm('1.5')).toBe(15_000);
    expect(percentToPpm('0.0001')).toBe(1);
    expect(percentToPpm('100')).toBe(1_000_000);
    expect(percentToPpm('100.0001')).toBeUndefined();
    expect(percentToPpm('1.23456')).toBeUndefined();
    expect(percentToPpm('-1')).toBeUndefined();
    expect(ppmToPercent(15_000)).toBe('1.5');
    expect(ppmToPercent(0)).toBe('0');
  });

  it('lookupReference: valid for 15 minutes, bound to client, product and amount, unforgeable', () => {
    const key = Buffer.alloc(32, 7);
    const input = { clientId: 111, productId: 100, purchaseAmount: 9_000n, nowSeconds: 1_000_000 };
    const reference = lookupReference(key, { ...input, feeAmount: 150n });
    expect(checkLookupReference(key, reference, input)).toEqual({ ok: true, feeAmount: 150n });
    expect(checkLookupReference(key, reference, { ...input, nowSeconds: 1_000_000 + 899 }).ok).toBe(true);
    expect(checkLookupReference(key, reference, { ...input, nowSeconds: 1_000_000 + 900 })).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(checkLookupReference(key, reference, { ...input, purchaseAmount: 9_001n })).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(checkLookupReference(Buffer.alloc(32, 8), reference, input).ok).toBe(false);
    const [expires, , mac] = reference.split('.');
    expect(checkLookupReference(key, `${expires}.0.${mac}`, input).ok).toBe(false);
    expect(checkLookupReference(key, 'garbage', input).ok).toBe(false);
  });
});
