import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors/errors.js';
import { money, parseCurrency } from '../../../core/money/money.js';
import {
  describeCarrierConformance,
  type CarrierConformanceMagic,
} from '../../contracts/carrier.conformance.js';
import { CarrierSimulator, carrierSimulatorPresets, createCarrierSimulator } from './carrier-simulator.js';
import { carrierMagicMsisdns as msisdns } from './magic-values.js';

const GBP = parseCurrency('GBP');
const options = { timeoutMs: 1_000 };
const price = money(499n, GBP);

const magic: CarrierConformanceMagic = {
  amount: price,
  msisdnSucceeds: msisdns.succeeds,
  msisdnDeclines: { msisdn: msisdns.insufficientFunds, declineReason: 'insufficient_funds' },
  msisdnPending: { msisdn: msisdns.pendingThenSucceeds, settlesAs: 'succeeded' },
  msisdnUnknownButCharged: msisdns.unknownButCharged,
  msisdnNotSent: msisdns.notSent,
  msisdnHangs: msisdns.hangs,
  unsupportedCurrency: parseCurrency('EUR'),
};

describeCarrierConformance(
  'carrier simulator (UK, refunds)',
  () => createCarrierSimulator('ukWithRefunds'),
  magic,
);
describeCarrierConformance(
  'carrier simulator (UK, no refunds)',
  () => createCarrierSimulator('ukWithoutRefunds'),
  magic,
);
describeCarrierConformance(
  'carrier simulator (full refunds only)',
  () => CarrierSimulator.create({ ...carrierSimulatorPresets.ukWithRefunds, partialRefundsSupported: false }),
  { ...magic, msisdnPending: { msisdn: msisdns.pendingThenDeclines, settlesAs: 'declined' } },
);

const charge = (msisdn: string, reference: string) => ({
  reference,
  msisdn,
  amount: price,
  description: 'Game credits',
});

describe('carrier simulator magic MSISDNs', () => {
  const cases = [
    [msisdns.succeeds, 'succeeded', undefined, '00'],
    ['447700900555', 'succeeded', undefined, '00'],
    [msisdns.insufficientFunds, 'declined', 'insufficient_funds', 'AA'],
    [msisdns.accountBlocked, 'declined', 'account_blocked', 'A5'],
    [msisdns.pendingThenSucceeds, 'pending', undefined, 'P1'],
    [msisdns.unknownButCharged, 'unknown', undefined, 'TIMEOUT'],
    [msisdns.notSent, 'not_sent', undefined, 'ECONNREFUSED'],
    [msisdns.limitExceeded, 'declined', 'limit_exceeded', 'A6'],
    [msisdns.pendingThenDeclines, 'pending', undefined, 'P1'],
    [msisdns.notRecognised, 'declined', 'invalid_account', 'A3'],
    ['+447700900123', 'declined', 'invalid_account', 'A3'],
  ] as const;
  for (const [msisdn, status, declineReason, rawCode] of cases) {
    it(`${msisdn} → ${status}${declineReason ? ` (${declineReason})` : ''} with raw code ${rawCode}`, async () => {
      const carrier = createCarrierSimulator();
      const outcome = await carrier.charge(charge(msisdn, 'pay_1'), options);
      expect(outcome).toMatchObject({ status, rawCode });
      if (declineReason) expect(outcome).toMatchObject({ declineReason });
    });
  }

  it('settles 003 as billed and 008 as declined at the first status lookup, and remembers it', async () => {
    const carrier = createCarrierSimulator();
    await carrier.charge(charge(msisdns.pendingThenSucceeds, 'pay_ok'), options);
    await carrier.charge(charge(msisdns.pendingThenDeclines, 'pay_ko'), options);
    expect(await carrier.status({ reference: 'pay_ok' }, options)).toMatchObject({
      status: 'succeeded',
      rawCode: '00',
    });
    expect(await carrier.status({ reference: 'pay_ko' }, options)).toMatchObject({
      status: 'declined',
      declineReason: 'insufficient_funds',
      rawCode: 'AA',
    });
    expect(await carrier.charge(charge(msisdns.pendingThenDeclines, 'pay_ko'), options)).toMatchObject({
      status: 'declined',
    });
  });

  it('006 hangs until the budget runs out, yet the phone was billed exactly once', async () => {
    const carrier = createCarrierSimulator();
    const outcome = await carrier.charge(charge(msisdns.hangs, 'pay_h'), { timeoutMs: 20 });
    expect(outcome).toMatchObject({ status: 'unknown', rawCode: 'TIMEOUT' });
    // The vendor answers a repeat at once from memory: no second charge.
    expect(await carrier.charge(charge(msisdns.hangs, 'pay_h'), options)).toMatchObject({
      status: 'succeeded',
    });
    expect(carrier.recordCount).toBe(1);
  });

  it('005 never reaches the carrier, so every retry is refused too and nothing is remembered', async () => {
    const carrier = createCarrierSimulator();
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await carrier.charge(charge(msisdns.notSent, 'pay_n'), options)).status).toBe('not_sent');
    }
    expect(carrier.recordCount).toBe(0);
  });

  it('keeps one record per reference however often it is charged', async () => {
    const carrier = createCarrierSimulator();
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => carrier.charge(charge(msisdns.succeeds, 'pay_same'), options)),
    );
    expect(new Set(outcomes.map((outcome) => outcome.connectorReference)).size).toBe(1);
    expect(carrier.recordCount).toBe(1);
  });
});

describe('carrier simulator scripting', () => {
  it('lets a script override the magic value of the next charges, in order', async () => {
    const carrier = createCarrierSimulator();
    carrier.script.nextOutcome('declined', { declineReason: 'account_blocked' }).nextOutcome('succeeded');
    expect(carrier.script.queuedCount).toBe(2);
    expect(await carrier.charge(charge(msisdns.succeeds, 'a'), options)).toMatchObject({
      status: 'declined',
      declineReason: 'account_blocked',
      rawCode: 'A5',
    });
    expect((await carrier.charge(charge(msisdns.insufficientFunds, 'b'), options)).status).toBe('succeeded');
    expect((await carrier.charge(charge(msisdns.insufficientFunds, 'c'), options)).status).toBe('declined');
  });

  it('scripts unknown with and without the charge having happened', async () => {
    const carrier = createCarrierSimulator();
    carrier.script.nextOutcome('unknown').nextOutcome('unknown', { applied: false });
    expect((await carrier.charge(charge(msisdns.succeeds, 'applied'), options)).status).toBe('unknown');
    expect((await carrier.charge(charge(msisdns.succeeds, 'lost'), options)).status).toBe('unknown');
    expect((await carrier.status({ reference: 'applied' }, options)).status).toBe('succeeded');
    expect((await carrier.status({ reference: 'lost' }, options)).status).toBe('not_sent');
  });

  it('scripts a pending charge that waits for settle(), which decides it once', async () => {
    const carrier = createCarrierSimulator();
    carrier.script.nextOutcome('pending', { settlesAs: 'never' });
    expect((await carrier.charge(charge(msisdns.succeeds, 'p'), options)).status).toBe('pending');
    expect((await carrier.status({ reference: 'p' }, options)).status).toBe('pending');
    expect(carrier.settle('p', 'declined', 'limit_exceeded')).toBe(true);
    expect(carrier.settle('p', 'succeeded')).toBe(false);
    expect(await carrier.status({ reference: 'p' }, options)).toMatchObject({
      status: 'declined',
      declineReason: 'limit_exceeded',
    });
  });

  it('scripts not_sent and hang for the next charge, and failures of a status lookup', async () => {
    const carrier = createCarrierSimulator();
    carrier.script.nextOutcome('not_sent').nextOutcome('hang');
    expect((await carrier.charge(charge(msisdns.succeeds, 'n'), options)).status).toBe('not_sent');
    expect((await carrier.charge(charge(msisdns.succeeds, 'h'), { timeoutMs: 20 })).status).toBe('unknown');
    carrier.script
      .nextOutcome('unknown', { operation: 'status' })
      .nextOutcome('hang', { operation: 'status' });
    expect(await carrier.status({ reference: 'h' }, options)).toMatchObject({
      status: 'unknown',
      rawCode: 'TIMEOUT',
    });
    expect((await carrier.status({ reference: 'h' }, { timeoutMs: 20 })).status).toBe('unknown');
    expect((await carrier.status({ reference: 'h' }, options)).status).toBe('succeeded');
  });

  it('aims entries at one operation and leaves status lookups alone by default', async () => {
    const carrier = createCarrierSimulator();
    await carrier.charge(charge(msisdns.succeeds, 'c1'), options);
    carrier.script.nextOutcome('declined', { operation: 'refund' });
    expect((await carrier.status({ reference: 'c1' }, options)).status).toBe('succeeded');
    expect((await carrier.charge(charge(msisdns.succeeds, 'c2'), options)).status).toBe('succeeded');
    const refund = await carrier.refund({ reference: 'r1', chargeReference: 'c1', amount: price }, options);
    expect(refund).toMatchObject({ status: 'declined', declineReason: 'do_not_honor', rawCode: '01' });
  });

  it('refuses scripts a lookup cannot honour and queues no more than its limit', () => {
    const carrier = createCarrierSimulator();
    expect(() => carrier.script.nextOutcome('declined', { operation: 'status' })).toThrow(
      /cannot be scripted/,
    );
    for (let index = 0; index < 64; index++) carrier.script.nextOutcome('succeeded');
    expect(() => carrier.script.nextOutcome('succeeded')).toThrow(/queue is full/);
  });

  it('reset() forgets charges and the script', async () => {
    const carrier = createCarrierSimulator();
    await carrier.charge(charge(msisdns.succeeds, 'x'), options);
    carrier.script.nextOutcome('declined');
    carrier.reset();
    expect(carrier.script.queuedCount).toBe(0);
    expect(carrier.recordCount).toBe(0);
    expect((await carrier.status({ reference: 'x' }, options)).status).toBe('not_sent');
  });

  it('replays a known reference from memory even when a script entry says otherwise', async () => {
    const carrier = createCarrierSimulator();
    await carrier.charge(charge(msisdns.succeeds, 'r'), options);
    carrier.script.nextOutcome('declined');
    expect((await carrier.charge(charge(msisdns.succeeds, 'r'), options)).status).toBe('succeeded');
    carrier.script.nextOutcome('not_sent');
    expect((await carrier.charge(charge(msisdns.succeeds, 'r'), options)).status).toBe('not_sent');
  });
});

describe('carrier simulator refunds', () => {
  it('counts a pending refund against what is left of the charge', async () => {
    const carrier = createCarrierSimulator();
    await carrier.charge(charge(msisdns.succeeds, 'c'), options);
    carrier.script.nextOutcome('pending', { operation: 'refund', settlesAs: 'never' });
    const first = await carrier.refund({ reference: 'r1', chargeReference: 'c', amount: price }, options);
    expect(first.status).toBe('pending');
    const second = await carrier.refund(
      { reference: 'r2', chargeReference: 'c', amount: money(1n, GBP) },
      options,
    );
    expect(second).toMatchObject({ status: 'declined', declineReason: 'invalid_amount', rawCode: 'R2' });
    expect(carrier.settle('r1', 'declined')).toBe(true);
    const third = await carrier.refund({ reference: 'r3', chargeReference: 'c', amount: price }, options);
    expect(third.status).toBe('succeeded');
  });

  it('declines a refund in another currency and a refund of a refund', async () => {
    const carrier = createCarrierSimulator();
    await carrier.charge(charge(msisdns.succeeds, 'c'), options);
    const euros = money(100n, parseCurrency('EUR'));
    expect(
      await carrier.refund({ reference: 'r1', chargeReference: 'c', amount: euros }, options),
    ).toMatchObject({
      status: 'declined',
      declineReason: 'invalid_amount',
    });
    await carrier.refund({ reference: 'r2', chargeReference: 'c', amount: money(100n, GBP) }, options);
    expect(
      await carrier.refund({ reference: 'r3', chargeReference: 'r2', amount: money(100n, GBP) }, options),
    ).toMatchObject({ status: 'declined', declineReason: 'invalid_state' });
  });

  it('treats a reference used for a charge and then a refund as a caller bug', async () => {
    const carrier = createCarrierSimulator();
    await carrier.charge(charge(msisdns.succeeds, 'c'), options);
    await expect(
      carrier.refund({ reference: 'c', chargeReference: 'c', amount: price }, options),
    ).rejects.toThrow(/different parameters/);
  });
});

describe('carrier simulator config', () => {
  it('has a static id and builds from a valid config', () => {
    expect(CarrierSimulator.id).toBe('carrier-simulator');
    const carrier = CarrierSimulator.create(carrierSimulatorPresets.ukWithoutRefunds);
    expect(carrier.id).toBe('carrier-simulator');
    expect(carrier.capabilities()).toEqual({
      refundsSupported: false,
      partialRefundsSupported: false,
      currencies: [GBP],
      perTransactionMaxMinor: 24_000n,
    });
  });

  it('rejects an invalid config with validation_failed naming the field', () => {
    const attempts: unknown[] = [
      {},
      { ...carrierSimulatorPresets.ukWithRefunds, currencies: [] },
      { ...carrierSimulatorPresets.ukWithRefunds, perTransactionMaxMinor: 0 },
      { ...carrierSimulatorPresets.ukWithRefunds, extra: true },
      { ...carrierSimulatorPresets.ukWithoutRefunds, partialRefundsSupported: true },
    ];
    for (const config of attempts) {
      expect(() => CarrierSimulator.create(config)).toThrow(AppError);
    }
    expect(() =>
      CarrierSimulator.create({ ...carrierSimulatorPresets.ukWithRefunds, currencies: ['XYZ'] }),
    ).toThrow(/ISO 4217/);
  });

  it('asserts on caller bugs: bad references, non-positive amounts, budgets out of range', async () => {
    const carrier = createCarrierSimulator();
    await expect(carrier.charge(charge(msisdns.succeeds, 'has space'), options)).rejects.toThrow(/reference/);
    await expect(
      carrier.charge({ ...charge(msisdns.succeeds, 'z'), amount: money(0n, GBP) }, options),
    ).rejects.toThrow(/positive/);
    await expect(carrier.charge(charge(msisdns.succeeds, 't'), { timeoutMs: 0 })).rejects.toThrow(
      /timeoutMs/,
    );
    await expect(
      carrier.charge({ ...charge(msisdns.succeeds, 'd'), description: '' }, options),
    ).rejects.toThrow(/description/);
  });
});
