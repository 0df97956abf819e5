import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxConnectorIds } from '../../src/connectors/sandbox-connectors.js';
import { transaction } from '../../src/core/db/db.js';
import type { Environment, Product } from '../../src/core/db/schema.js';
import { AppError } from '../../src/core/errors/errors.js';
import { verifyLedger } from '../../src/core/ledger/verify.js';
import { insertMerchant } from '../../src/core/merchants/merchants.js';
import { parseCurrency } from '../../src/core/money/money.js';
import { createPayment, recordOutcome, type ConnectorAnswer } from '../../src/core/payments/service.js';
import {
  addPortedNumber,
  carrierConnectorIds,
  checkSpendLimits,
  createCarrier,
  detectCarrier,
  getCarrier,
  lockSubscriberSpend,
  removePortedNumber,
  sandboxCarrierIds,
  updateCarrier,
  type CarrierRow,
  type CreateCarrierInput,
} from '../../src/products/carrier-billing/carriers.js';
import { parseMsisdn } from '../../src/products/carrier-billing/msisdn.js';
import { createTestDatabase, type TestDatabase } from '../harness.js';

// The service functions against a real, migrated database (PGlite, and PostgreSQL when TEST_DATABASE_URL
// is set); the HTTP surface is in carrier-routes.test.ts.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  // Whatever the spend-limit fixtures did, the ledger they posted balances.
  const report = await verifyLedger(db());
  await database.close();
  expect(report.findings).toEqual([]);
});

const db = () => database.handle.db;
const msisdn = (digits: string) => parseMsisdn(digits).msisdn;
const detect = (environment: Environment, number: string, network: { mcc?: string; mnc?: string } = {}) =>
  detectCarrier(db(), { environment, msisdn: msisdn(number), ...network });
const create = (input: CreateCarrierInput) => transaction(db(), (tx) => createCarrier(tx, input));
const update = (id: string, patch: Parameters<typeof updateCarrier>[2]) =>
  transaction(db(), (tx) => updateCarrier(tx, id, patch));

async function rejected(work: () => Promise<unknown>): Promise<AppError> {
  try {
    await work();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

/** A production carrier in the UAE (calling code 971) with its own MNC. */
function uaeCarrier(mnc: string, overrides: Partial<CreateCarrierInput> = {}): CreateCarrierInput {
  return {
    environment: 'production',
    name: `UAE ${mnc}`,
    country: 'AE',
    mcc: '424',
    mnc,
    currency: 'AED',
    connectorId: 'carrier-simulator',
    perTransactionMaxMinor: 10_000n,
    dailyMaxMinor: 50_000n,
    monthlyMaxMinor: 100_000n,
    ...overrides,
  };
}

describe('seeded sandbox carriers', () => {
  it('migration 0006 seeds a UK carrier with refunds and one without, with ported numbers', async () => {
    const refunds = await getCarrier(db(), sandboxCarrierIds.ukWithRefunds);
    expect(refunds).toMatchObject({
      environment: 'sandbox',
      name: 'Sandbox UK (refunds)',
      country: 'GB',
      mcc: '234',
      mnc: '10',
      number_ranges: ['447700900'],
      currency: 'GBP',
      refunds_supported: true,
      partial_refunds_supported: true,
      confirmation_sms_required: true,
      pin_length: 6,
      per_transaction_max_minor: 24_000n,
      daily_max_minor: 100_000n,
      monthly_max_minor: 500_000n,
      connector_id: sandboxConnectorIds.carrier,
      connector_config: {},
      enabled: true,
    });
    const noRefunds = await getCarrier(db(), sandboxCarrierIds.ukWithoutRefunds);
    expect(noRefunds).toMatchObject({
      mcc: '234',
      mnc: '15',
      number_ranges: ['447700901'],
      refunds_supported: false,
      partial_refunds_supported: false,
      connector_id: sandboxConnectorIds.carrierWithoutRefunds,
    });
    const ported = await sql<{ msisdn: string; carrier_id: string }>`
      SELECT msisdn, carrier_id FROM number_portability WHERE environment = 'sandbox' ORDER BY msisdn`.execute(
      db(),
    );
    expect(ported.rows).toEqual(
      Array.from({ length: 10 }, (_, i) => ({
        msisdn: `44770090050${i}`,
        carrier_id: sandboxCarrierIds.ukWithoutRefunds,
      })),
    );
  });

  it('the connector ids a carrier may name are the sandbox registry ids of the carrier simulators', () => {
    expect([...carrierConnectorIds]).toEqual([
      sandboxConnectorIds.carrier,
      sandboxConnectorIds.carrierWithoutRefunds,
    ]);
  });

  it('unknown ids are not_found', async () => {
    expect((await rejected(() => getCarrier(db(), 'car_nope'))).code).toBe('not_found');
    expect((await rejected(() => update('car_nope', { enabled: false }))).code).toBe('not_found');
  });
});

describe('detectCarrier', () => {
  it('finds the carrier by number range in the sandbox ranges', async () => {
    const a = await detect('sandbox', '447700900123');
    expect(a?.carrier.id).toBe(sandboxCarrierIds.ukWithRefunds);
    expect(a?.ported).toBe(false);
    expect(a?.carrier.per_transaction_max_minor).toBe(24_000n);
    expect(a?.carrier.number_ranges).toEqual(['447700900']);
    expect(a?.carrier.created_at).toBeInstanceOf(Date);
    const b = await detect('sandbox', '447700901999');
    expect(b?.carrier.id).toBe(sandboxCarrierIds.ukWithoutRefunds);
    expect(b?.ported).toBe(false);
  });

  it('a ported number goes to its real network, even when the client names the old one', async () => {
    for (const network of [{}, { mcc: '234', mnc: '10' }]) {
      const detected = await detect('sandbox', '447700900505', network);
      expect(detected?.carrier.id).toBe(sandboxCarrierIds.ukWithoutRefunds);
      expect(detected?.ported).toBe(true);
    }
    // Its neighbours outside the seeded list stay on the range's carrier.
    expect((await detect('sandbox', '447700900510'))?.carrier.id).toBe(sandboxCarrierIds.ukWithRefunds);
  });

  it('MCC/MNC, when both are given, decide over the number range', async () => {
    const byNetwork = await detect('sandbox', '447700900123', { mcc: '234', mnc: '15' });
    expect(byNetwork?.carrier.id).toBe(sandboxCarrierIds.ukWithoutRefunds);
    expect(byNetwork?.ported).toBe(false);
    // An MNC that lost its leading zero (a client sending numbers) still matches.
    const zeros = await create(uaeCarrier('02', { numberRanges: ['97155'] }));
    const detected = await detectCarrier(db(), {
      environment: 'production',
      msisdn: msisdn('971501234567'),
      mcc: 424,
      mnc: 2,
    });
    expect(detected?.carrier.id).toBe(zeros.id);
    // Unknown network: no carrier, even though the range would match.
    expect(await detect('sandbox', '447700900123', { mcc: '234', mnc: '99' })).toBeUndefined();
    // Only one of the two (or empty strings): ignored, the range decides.
    expect((await detect('sandbox', '447700900123', { mcc: '234' }))?.carrier.id).toBe(
      sandboxCarrierIds.ukWithRefunds,
    );
    expect((await detect('sandbox', '447700900123', { mcc: '', mnc: '' }))?.carrier.id).toBe(
      sandboxCarrierIds.ukWithRefunds,
    );
    const bad = await rejected(() => detect('sandbox', '447700900123', { mcc: '23a', mnc: '10' }));
    expect(bad).toMatchObject({ code: 'validation_failed', field: 'mcc' });
  });

  it('an unknown number, or a number of another environment, finds no carrier', async () => {
    expect(await detect('sandbox', '447400123456')).toBeUndefined();
    expect(await detect('production', '447700900123')).toBeUndefined();
    expect(await detect('production', '447700900505')).toBeUndefined();
  });

  it('the longest matching range wins', async () => {
    const wide = await create(uaeCarrier('03', { numberRanges: ['9715'] }));
    const narrow = await create(uaeCarrier('04', { numberRanges: ['971566'] }));
    expect((await detect('production', '971566123456'))?.carrier.id).toBe(narrow.id);
    expect((await detect('production', '971561234567'))?.carrier.id).toBe(wide.id);
    expect((await detect('production', '971551234567'))?.carrier.id).not.toBe(wide.id); // '97155' above
  });

  it('a disabled carrier is never detected and its numbers do not fall back to another network', async () => {
    const outer = await create(uaeCarrier('05', { numberRanges: ['97152'] }));
    const inner = await create(uaeCarrier('06', { numberRanges: ['971521'] }));
    expect((await detect('production', '971521234567'))?.carrier.id).toBe(inner.id);
    await update(inner.id, { enabled: false });
    expect(await detect('production', '971521234567')).toBeUndefined();
    expect(await detect('production', '971521234567', { mcc: '424', mnc: '06' })).toBeUndefined();
    expect((await detect('production', '971529876543'))?.carrier.id).toBe(outer.id);
    // Ported to a disabled network: no carrier, not the range's.
    await transaction(db(), (tx) => addPortedNumber(tx, inner.id, '971529876543'));
    expect(await detect('production', '971529876543')).toBeUndefined();
    await update(inner.id, { enabled: true });
    expect(await detect('production', '971529876543')).toMatchObject({
      carrier: { id: inner.id },
      ported: true,
    });
    expect((await detect('production', '971521234567'))?.carrier.id).toBe(inner.id);
  });

  it('a portability row naming the range carrier itself is not a port; removing a row restores the range', async () => {
    const home = await create(uaeCarrier('07', { numberRanges: ['97158'] }));
    const other = await create(uaeCarrier('08', { numberRanges: ['97159'] }));
    await transaction(db(), (tx) => addPortedNumber(tx, home.id, '971581234567'));
    expect(await detect('production', '971581234567')).toMatchObject({
      carrier: { id: home.id },
      ported: false,
    });
    // Porting again moves the number: one network at a time.
    await transaction(db(), (tx) => addPortedNumber(tx, other.id, '+971581234567'));
    expect(await detect('production', '971581234567')).toMatchObject({
      carrier: { id: other.id },
      ported: true,
    });
    const wrong = await rejected(() =>
      transaction(db(), (tx) => removePortedNumber(tx, home.id, '971581234567')),
    );
    expect(wrong.code).toBe('not_found');
    await transaction(db(), (tx) => removePortedNumber(tx, other.id, '971581234567'));
    expect(await detect('production', '971581234567')).toMatchObject({
      carrier: { id: home.id },
      ported: false,
    });
  });
});

describe('carrier writes', () => {
  it('validate the record as a whole and name the field', async () => {
    const cases: [Partial<CreateCarrierInput>, string, string][] = [
      [{ country: 'XX' }, '/country', 'validation_failed'],
      [{ numberRanges: ['4477'] }, '/number_ranges', 'validation_failed'],
      [{ numberRanges: ['0971'] }, '/number_ranges', 'validation_failed'],
      [{ currency: 'ZZZ' }, '/currency', 'invalid_currency'],
      [{ partialRefundsSupported: true }, '/partial_refunds_supported', 'validation_failed'],
      [{ pinLength: 9 }, '/pin_length', 'validation_failed'],
      [{ dailyMaxMinor: 9_999n }, '/daily_max_minor', 'validation_failed'],
      [{ monthlyMaxMinor: 49_999n }, '/monthly_max_minor', 'validation_failed'],
      [{ perTransactionMaxMinor: 0n }, '/per_transaction_max_minor', 'validation_failed'],
      [{ connectorId: 'infomedia' }, '/connector_id', 'validation_failed'],
      [{ connectorConfig: { blob: 'x'.repeat(20_000) } }, '/connector_config', 'validation_failed'],
      [{ name: '  ' }, '/name', 'validation_failed'],
      [{ mnc: '1' }, '/mnc', 'validation_failed'],
    ];
    for (const [overrides, field, code] of cases) {
      const error = await rejected(() => create(uaeCarrier('50', overrides)));
      expect(
        { field: error.field, code: error.code },
        JSON.stringify(overrides, (_k, v: unknown) => String(v)),
      ).toEqual({
        field,
        code,
      });
    }
    const created = await create(uaeCarrier('50', { currency: 'aed', numberRanges: ['97160', '97160'] }));
    expect(created).toMatchObject({
      currency: 'AED',
      number_ranges: ['97160'],
      pin_length: 6,
      enabled: true,
    });
    expect(created.id).toMatch(/^car_[0-9A-Z]{26}$/);
  });

  it('refuse a second carrier with the same MCC/MNC in an environment, and a range an enabled one has', async () => {
    await create(uaeCarrier('60', { numberRanges: ['97161'] }));
    const duplicate = await rejected(() => create(uaeCarrier('60')));
    expect(duplicate).toMatchObject({ code: 'conflict', field: '/mnc' });
    // Another environment may reuse it.
    const sandbox = await create(uaeCarrier('60', { environment: 'sandbox' }));
    expect(sandbox.environment).toBe('sandbox');
    const sameRange = await rejected(() => create(uaeCarrier('61', { numberRanges: ['97161'] })));
    expect(sameRange).toMatchObject({ code: 'conflict', field: '/number_ranges' });
    const disabled = await create(uaeCarrier('61', { numberRanges: ['97161'], enabled: false }));
    const enabling = await rejected(() => update(disabled.id, { enabled: true }));
    expect(enabling.code).toBe('conflict');
    const moving = await rejected(() => update(disabled.id, { mnc: '60' }));
    expect(moving).toMatchObject({ code: 'conflict', field: '/mnc' });
  });

  it('update merges a partial change and validates the result', async () => {
    const carrier = await create(uaeCarrier('70'));
    const raised = await update(carrier.id, {
      dailyMaxMinor: 60_000n,
      monthlyMaxMinor: 900_000n,
      name: 'Raised',
    });
    expect(raised).toMatchObject({
      name: 'Raised',
      per_transaction_max_minor: 10_000n,
      daily_max_minor: 60_000n,
      monthly_max_minor: 900_000n,
    });
    expect(raised.updated_at.getTime()).toBeGreaterThanOrEqual(carrier.updated_at.getTime());
    const error = await rejected(() => update(carrier.id, { perTransactionMaxMinor: 70_000n }));
    expect(error.field).toBe('/daily_max_minor');
    const config = await update(carrier.id, { connectorConfig: { region: 'ae' }, pinLength: 4 });
    expect(config).toMatchObject({ connector_config: { region: 'ae' }, pin_length: 4 });
  });
});

describe('checkSpendLimits', () => {
  const now = new Date('2024-03-15T12:00:00Z');
  const subscriber = '447700901400';
  let limited: CarrierRow;
  let merchantA: string;
  let merchantB: string;

  async function pay(input: {
    merchantId?: string;
    amountMinor: bigint;
    at: string;
    answer?: ConnectorAnswer['status'];
    carrierId?: string;
    environment?: Environment;
    product?: Product;
    payer?: string;
  }) {
    const merchantId = input.merchantId ?? merchantA;
    const payment = await transaction(db(), (tx) =>
      createPayment(tx, {
        merchantId,
        environment: input.environment ?? 'sandbox',
        product: input.product ?? 'carrier-billing',
        kind: 'sale',
        amount: { amountMinor: input.amountMinor, currency: parseCurrency('GBP') },
        payerRef: input.payer ?? subscriber,
        connectorId: 'carrier-simulator-no-refunds',
        metadata: { carrier_id: input.carrierId ?? limited.id },
      }),
    );
    if (input.answer && input.answer !== 'pending') {
      await recordOutcome(db(), {
        merchantId,
        paymentId: payment.id,
        answer: { status: input.answer, rawCode: input.answer === 'succeeded' ? '00' : 'AA' },
      });
    }
    await sql`UPDATE payments SET created_at = ${input.at}::timestamptz WHERE id = ${payment.id}`.execute(
      db(),
    );
  }

  const check = (amountMinor: bigint, at: Date = now, carrier: CarrierRow = limited) =>
    checkSpendLimits(db(), {
      environment: 'sandbox',
      carrier,
      msisdn: msisdn(subscriber),
      amountMinor,
      now: at,
    });

  beforeAll(async () => {
    merchantA = (await insertMerchant(db(), { name: 'Shop A' })).id;
    merchantB = (await insertMerchant(db(), { name: 'Shop B' })).id;
    limited = await create({
      environment: 'sandbox',
      name: 'Sandbox UK (small limits)',
      country: 'GB',
      mcc: '234',
      mnc: '98',
      currency: 'GBP',
      connectorId: 'carrier-simulator-no-refunds',
      perTransactionMaxMinor: 1_000n,
      dailyMaxMinor: 3_000n,
      monthlyMaxMinor: 5_000n,
    });
    // Counted today (2024-03-15) and this month, across merchants, whatever the outcome may still be.
    await pay({ amountMinor: 1_000n, at: '2024-03-15T00:00:00.000Z', answer: 'succeeded' });
    await pay({ amountMinor: 1_000n, at: '2024-03-15T08:00:00Z', answer: 'pending' });
    await pay({ amountMinor: 500n, at: '2024-03-15T23:59:59.999Z', answer: 'unknown' });
    await pay({ merchantId: merchantB, amountMinor: 400n, at: '2024-03-15T09:00:00Z', answer: 'succeeded' });
    // Counted this month only.
    await pay({ amountMinor: 1_000n, at: '2024-03-14T23:59:59.999Z', answer: 'succeeded' });
    // Never counted: declined, another carrier, environment, product or subscriber, other months.
    await pay({ amountMinor: 1_000n, at: '2024-03-15T09:00:00Z', answer: 'declined' });
    await pay({
      amountMinor: 1_000n,
      at: '2024-03-15T10:00:00Z',
      answer: 'succeeded',
      carrierId: 'car_other',
    });
    await pay({
      amountMinor: 1_000n,
      at: '2024-03-15T10:00:00Z',
      answer: 'succeeded',
      environment: 'production',
    });
    await pay({
      amountMinor: 1_000n,
      at: '2024-03-15T10:00:00Z',
      answer: 'succeeded',
      product: 'subscriptions',
    });
    await pay({
      amountMinor: 1_000n,
      at: '2024-03-15T10:00:00Z',
      answer: 'succeeded',
      payer: '447700901401',
    });
    await pay({ amountMinor: 1_000n, at: '2024-02-29T12:00:00Z', answer: 'succeeded' });
    await pay({ amountMinor: 1_000n, at: '2024-04-01T00:00:00Z', answer: 'succeeded' });
  });

  it('a charge above the per-transaction maximum is refused before anything is summed', async () => {
    expect(await check(1_001n)).toEqual({ limit: 'per_transaction', limitMinor: 1_000n, spentMinor: 0n });
    expect(await check(1_000n, new Date('2024-05-01T00:00:00Z'))).toBeUndefined();
  });

  it('the daily limit counts succeeded, pending and unknown sales of every merchant in the UTC day', async () => {
    // Spent today: 1000 + 1000 + 500 + 400 = 2900 of 3000.
    expect(await check(100n)).toBeUndefined();
    expect(await check(101n)).toEqual({ limit: 'daily', limitMinor: 3_000n, spentMinor: 2_900n });
    // The same day at its first and last millisecond.
    expect(await check(101n, new Date('2024-03-15T00:00:00.000Z'))).toMatchObject({ limit: 'daily' });
    expect(await check(101n, new Date('2024-03-15T23:59:59.999Z'))).toMatchObject({ limit: 'daily' });
  });

  it('the monthly limit counts the calendar month (UTC) of now', async () => {
    // 2024-03-20: nothing today; this month 2900 + 1000 (the 14th) = 3900 of 5000.
    const later = new Date('2024-03-20T10:00:00Z');
    expect(await check(1_000n, later)).toBeUndefined();
    await pay({ amountMinor: 1_000n, at: '2024-03-20T09:00:00Z', answer: 'succeeded' });
    expect(await check(100n, later)).toBeUndefined();
    expect(await check(101n, later)).toEqual({ limit: 'monthly', limitMinor: 5_000n, spentMinor: 4_900n });
    // The previous month's payments and the next month's are not this month's.
    expect(await check(1_000n, new Date('2024-02-29T23:00:00Z'))).toBeUndefined();
  });

  it('limits belong to the subscriber at one carrier: raising them lets the charge through', async () => {
    // Today 2900 of 3000, this month 4900 of 5000 (with the 20th's payment).
    const raised = await update(limited.id, { dailyMaxMinor: 4_000n, monthlyMaxMinor: 6_000n });
    expect(await check(101n, now, raised)).toBeUndefined();
    expect(await check(1_000n, now, raised)).toBeUndefined();
    const other = await getCarrier(db(), sandboxCarrierIds.ukWithoutRefunds);
    expect(await check(1_000n, now, other)).toBeUndefined();
    limited = await update(limited.id, { dailyMaxMinor: 3_000n, monthlyMaxMinor: 5_000n });
  });

  it('lockSubscriberSpend takes a transaction lock a limit check can follow', async () => {
    const result = await transaction(db(), async (tx) => {
      await lockSubscriberSpend(tx, {
        environment: 'sandbox',
        carrierId: limited.id,
        msisdn: msisdn(subscriber),
      });
      return checkSpendLimits(tx, {
        environment: 'sandbox',
        carrier: limited,
        msisdn: msisdn(subscriber),
        amountMinor: 101n,
        now,
      });
    });
    expect(result).toMatchObject({ limit: 'daily', spentMinor: 2_900n });
  });
});
