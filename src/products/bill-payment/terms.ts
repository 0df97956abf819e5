import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Prices, fees and shares of a product (clickatell-payd.md §7.1, §7.4). All amounts are integer minor
 * units of the product's currency.
 *
 * - Pricing: `single` (the purchase must be exactly `amount`) or `range` (`minimumAmount` ≤ purchase ≤
 *   `maximumAmount`, and `(purchase − minimumAmount)` a multiple of `increment`).
 * - Fee = `feeFixed` + purchase × `feeRate`; client share = `shareFixed` + purchase × `shareRate`. Rates
 *   are parts per million; the percentage part is rounded **half up to the minor unit** (0.5 minor units
 *   and more round up, less rounds down), once, after multiplying — never per step.
 * - reserve = purchase + fee (what the bank reserves and the buyer pays); vend = purchase (what the
 *   biller delivers); settlement = reserve − client share (what the bank owes Payloom's operator).
 */
export interface ProductPricing {
  readonly type: 'single' | 'range';
  readonly amount?: bigint;
  readonly minimumAmount?: bigint;
  readonly maximumAmount?: bigint;
  readonly increment?: bigint;
}

export interface ProductRules {
  readonly pricing: ProductPricing;
  readonly feeFixed: bigint;
  readonly feeRatePpm: number;
  readonly shareFixed: bigint;
  readonly shareRatePpm: number;
}

export interface Terms {
  readonly purchaseAmount: bigint;
  readonly feeAmount: bigint;
  readonly reserveAmount: bigint;
  readonly vendAmount: bigint;
  readonly settlementAmount: bigint;
  readonly clientShareAmount: bigint;
}

const million = 1_000_000n;

/** `amount × ppm / 10^6`, rounded half up (amounts and rates are never negative). */
export function ratePart(amount: bigint, ppm: number): bigint {
  return (amount * BigInt(ppm) * 2n + million) / (2n * million);
}

export function termsFor(rules: ProductRules, purchaseAmount: bigint): Terms {
  const feeAmount = rules.feeFixed + ratePart(purchaseAmount, rules.feeRatePpm);
  const reserveAmount = purchaseAmount + feeAmount;
  const share = rules.shareFixed + ratePart(purchaseAmount, rules.shareRatePpm);
  // The client's share never exceeds what is reserved.
  const clientShareAmount = share > reserveAmount ? reserveAmount : share;
  return {
    purchaseAmount,
    feeAmount,
    reserveAmount,
    vendAmount: purchaseAmount,
    settlementAmount: reserveAmount - clientShareAmount,
    clientShareAmount,
  };
}

/** The Transact Result code for a purchase amount the product's pricing does not allow, if any. */
export function pricingViolation(
  pricing: ProductPricing,
  purchaseAmount: bigint,
): '2506' | '2509' | '2510' | '2511' | undefined {
  if (pricing.type === 'single') return purchaseAmount === pricing.amount ? undefined : '2506';
  const min = pricing.minimumAmount ?? 1n;
  const max = pricing.maximumAmount ?? min;
  const increment = pricing.increment ?? 1n;
  if (purchaseAmount < min) return '2509';
  if (purchaseAmount > max) return '2510';
  if ((purchaseAmount - min) % increment !== 0n) return '2511';
  return undefined;
}

/** A percentage given as text (`"1.5"`, `"0.25"`, up to four decimals) in parts per million, exactly. */
export function percentToPpm(text: string): number | undefined {
  const match = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(text);
  if (!match) return undefined;
  const ppm = Number(match[1]) * 10_000 + Number((match[2] ?? '').padEnd(4, '0'));
  return ppm <= 1_000_000 ? ppm : undefined;
}

export function ppmToPercent(ppm: number): string {
  const whole = Math.floor(ppm / 10_000);
  const fraction = String(ppm % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/** How long a Financial Terms `lookupReference` stays valid. */
export const lookupReferenceSeconds = 15 * 60;

/**
 * `lookupReference`: the quoted terms, signed, so a Transact that presents it within 15 minutes is
 * held to the quoted fee even if the operator changes the product's fee in between. Stateless: a
 * quote costs no write. Format: `<expiry seconds, base 36>.<fee, base 36>.<16 hex of HMAC>`.
 */
export function lookupReference(
  key: Buffer,
  input: {
    clientId: number;
    productId: number;
    purchaseAmount: bigint;
    feeAmount: bigint;
    nowSeconds: number;
  },
): string {
  const expires = (input.nowSeconds + lookupReferenceSeconds).toString(36);
  const fee = input.feeAmount.toString(36);
  return `${expires}.${fee}.${referenceMac(key, input, expires, fee)}`;
}

export type LookupReferenceCheck =
  | { readonly ok: true; readonly feeAmount: bigint }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' };

export function checkLookupReference(
  key: Buffer,
  reference: string,
  input: { clientId: number; productId: number; purchaseAmount: bigint; nowSeconds: number },
): LookupReferenceCheck {
  const [expires, fee, mac] = reference.split('.');
  if (!expires || !fee || !mac || !/^[0-9a-z]{1,12}$/.test(expires) || !/^[0-9a-z]{1,12}$/.test(fee)) {
    return { ok: false, reason: 'invalid' };
  }
  const expected = Buffer.from(referenceMac(key, input, expires, fee));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'invalid' };
  if (parseInt(expires, 36) <= input.nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, feeAmount: BigInt(parseInt(fee, 36)) };
}

function referenceMac(
  key: Buffer,
  input: { clientId: number; productId: number; purchaseAmount: bigint },
  expires: string,
  fee: string,
): string {
  return createHmac('sha256', key)
    .update(`${input.clientId}|${input.productId}|${input.purchaseAmount}|${expires}|${fee}`)
    .digest('hex')
    .slice(0, 16);
}
