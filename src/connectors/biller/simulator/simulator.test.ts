import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors/errors.js';
import { money, parseCurrency } from '../../../core/money/money.js';
import {
  describeBillerConformance,
  type BillerConformanceMagic,
} from '../../contracts/biller.conformance.js';
import { BillerSimulator, createBillerSimulator } from './biller-simulator.js';
import { billerMagicAccounts as accounts } from './magic-values.js';

const ZAR = parseCurrency('ZAR');
const options = { timeoutMs: 1_000 };
const amount = money(15_000n, ZAR);

const magic: BillerConformanceMagic = {
  productCode: 'ELECTRICITY',
  amount,
  accountValid: accounts.valid,
  accountInvalid: accounts.invalidAccount,
  accountBlocked: accounts.blocked,
  vendPending: { accountNumber: accounts.vendPendingThenSucceeds, settlesAs: 'succeeded' },
  vendUnknownButVended: accounts.vendUnknownButVended,
  vendNotSent: accounts.vendNotSent,
  vendHangs: accounts.vendHangs,
};

describeBillerConformance('biller simulator (electricity)', () => createBillerSimulator(), magic);
describeBillerConformance('biller simulator (water, KES)', () => createBillerSimulator({ currency: 'KES' }), {
  ...magic,
  productCode: 'WATER',
  amount: money(15_000n, parseCurrency('KES')),
  vendPending: { accountNumber: accounts.vendPendingThenDeclines, settlesAs: 'declined' },
});

const vend = (accountNumber: string, reference: string, productCode = 'ELECTRICITY') => ({
  reference,
  accountNumber,
  productCode,
  amount,
});

describe('biller simulator magic account numbers', () => {
  const vendCases = [
    [accounts.valid, 'succeeded', undefined, '0000'],
    ['123456789', 'succeeded', undefined, '0000'],
    [accounts.invalidAccount, 'declined', 'invalid_account', '2030'],
    [accounts.blocked, 'declined', 'account_blocked', '2080'],
    [accounts.vendPendingThenSucceeds, 'pending', undefined, 'PENDING'],
    [accounts.vendUnknownButVended, 'unknown', undefined, 'TIMEOUT'],
    [accounts.vendNotSent, 'not_sent', undefined, 'ECONNREFUSED'],
    [accounts.vendPendingThenDeclines, 'pending', undefined, 'PENDING'],
    [accounts.vendInsufficientFunds, 'declined', 'insufficient_funds', '2010'],
    ['12AB', 'declined', 'invalid_account', '2030'],
  ] as const;
  for (const [accountNumber, status, declineReason, rawCode] of vendCases) {
    it(`vend to ${accountNumber} → ${status}${declineReason ? ` (${declineReason})` : ''}, raw ${rawCode}`, async () => {
      const biller = createBillerSimulator();
      const outcome = await biller.vend(vend(accountNumber, 'v1'), options);
      expect(outcome).toMatchObject({ status, rawCode });
      if (declineReason) expect(outcome).toMatchObject({ declineReason });
    });
  }

  it('validates every vend-behaviour account, so products can reach each behaviour after validation', async () => {
    const biller = createBillerSimulator();
    for (const accountNumber of [
      accounts.vendPendingThenSucceeds,
      accounts.vendUnknownButVended,
      accounts.vendNotSent,
      accounts.vendHangs,
      accounts.vendPendingThenDeclines,
      accounts.vendInsufficientFunds,
    ]) {
      const outcome = await biller.validateAccount({ accountNumber, productCode: 'ELECTRICITY' }, options);
      expect(outcome.status, accountNumber).toBe('succeeded');
    }
  });

  it('derives the holder name from the number and a balance due only for postpaid products', async () => {
    const biller = createBillerSimulator();
    const water = await biller.validateAccount(
      { accountNumber: '5550001234', productCode: 'WATER' },
      options,
    );
    const electricity = await biller.validateAccount(
      { accountNumber: '5550001234', productCode: 'ELECTRICITY' },
      options,
    );
    expect(water.status === 'succeeded' && electricity.status === 'succeeded').toBe(true);
    if (water.status !== 'succeeded' || electricity.status !== 'succeeded') return;
    expect(water.data.holderName).toBe(electricity.data.holderName);
    expect(water.data.holderName).toMatch(/^\S+ .+$/);
    expect(water.data.balanceDue?.currency).toBe(ZAR);
    expect(water.data.balanceDue?.amountMinor).toBeGreaterThanOrEqual(5_000n);
    expect(water.data.balanceDue?.amountMinor).toBeLessThan(100_000n);
    expect(electricity.data.balanceDue).toBeUndefined();
    expect(electricity.data).toMatchObject({
      amountMin: money(1_000n, ZAR),
      amountMax: money(300_000n, ZAR),
    });
    const other = await createBillerSimulator().validateAccount(
      { accountNumber: '5550001234', productCode: 'WATER' },
      options,
    );
    expect(other).toEqual(water);
  });

  it('vends a 20-digit electricity token and a receipt, but no token for a postpaid bill', async () => {
    const biller = createBillerSimulator();
    const electricity = await biller.vend(vend(accounts.valid, 'e1'), options);
    const water = await biller.vend(vend(accounts.valid, 'w1', 'WATER'), options);
    expect(electricity).toMatchObject({
      status: 'succeeded',
      data: { token: expect.stringMatching(/^\d{20}$/) },
    });
    expect(water).toMatchObject({
      status: 'succeeded',
      data: { receiptNumber: expect.stringMatching(/^RCP\d{12}$/) },
    });
    if (water.status === 'succeeded') expect(water.data.token).toBeUndefined();
  });

  it('declines a vend in another currency as invalid_amount', async () => {
    const biller = createBillerSimulator();
    const outcome = await biller.vend(
      { ...vend(accounts.valid, 'x'), amount: money(15_000n, parseCurrency('USD')) },
      options,
    );
    expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_amount', rawCode: '2210' });
  });
});

describe('biller simulator scripting', () => {
  it('sends untargeted entries to vends only; validation is scripted by name', async () => {
    const biller = createBillerSimulator();
    biller.script.nextOutcome('declined', { declineReason: 'limit_exceeded' });
    const validation = await biller.validateAccount(
      { accountNumber: accounts.valid, productCode: 'WATER' },
      options,
    );
    expect(validation.status).toBe('succeeded');
    expect(await biller.vend(vend(accounts.valid, 'v'), options)).toMatchObject({
      status: 'declined',
      declineReason: 'limit_exceeded',
      rawCode: '2040',
    });
    biller.script
      .nextOutcome('unknown', { operation: 'validateAccount' })
      .nextOutcome('not_sent', { operation: 'validateAccount' })
      .nextOutcome('declined', { operation: 'validateAccount', declineReason: 'account_blocked' });
    const request = { accountNumber: accounts.valid, productCode: 'WATER' };
    expect((await biller.validateAccount(request, options)).status).toBe('unknown');
    expect((await biller.validateAccount(request, options)).status).toBe('not_sent');
    expect(await biller.validateAccount(request, options)).toMatchObject({
      declineReason: 'account_blocked',
    });
    expect(() => biller.script.nextOutcome('pending', { operation: 'validateAccount' })).toThrow(
      /cannot be scripted/,
    );
  });

  it('scripts a vend that stays pending until settle()', async () => {
    const biller = createBillerSimulator();
    biller.script.nextOutcome('pending', { settlesAs: 'never' });
    expect((await biller.vend(vend(accounts.valid, 'p'), options)).status).toBe('pending');
    expect((await biller.status({ reference: 'p' }, options)).status).toBe('pending');
    expect(biller.settle('p', 'succeeded')).toBe(true);
    expect((await biller.status({ reference: 'p' }, options)).status).toBe('succeeded');
    expect(biller.settle('nope', 'declined')).toBe(false);
  });

  it('scripts a hang that did not vend: status then finds nothing', async () => {
    const biller = createBillerSimulator();
    biller.script.nextOutcome('hang', { applied: false });
    expect((await biller.vend(vend(accounts.valid, 'h'), { timeoutMs: 20 })).status).toBe('unknown');
    expect((await biller.status({ reference: 'h' }, options)).status).toBe('not_sent');
    expect(biller.recordCount).toBe(0);
  });

  it('reset() forgets vends and the script', async () => {
    const biller = createBillerSimulator();
    await biller.vend(vend(accounts.valid, 'r'), options);
    biller.script.nextOutcome('declined');
    biller.reset();
    expect(biller.recordCount).toBe(0);
    expect(biller.script.queuedCount).toBe(0);
  });
});

describe('biller simulator config', () => {
  it('has a static id and validates its config', () => {
    expect(BillerSimulator.id).toBe('biller-simulator');
    expect(createBillerSimulator().capabilities().currencies).toEqual([ZAR]);
    expect(() => BillerSimulator.create({ currency: 'zar' })).toThrow(AppError);
    expect(() => BillerSimulator.create({ currency: 'ZAR', extra: 1 })).toThrow(AppError);
    expect(() => BillerSimulator.create({ currency: 'XYZ' })).toThrow(/ISO 4217/);
  });
});

describe('biller simulator: bill-payment magic values', () => {
  it('declines validation and vend at an offline biller as not_supported 4010', async () => {
    const biller = createBillerSimulator();
    const validation = await biller.validateAccount(
      { accountNumber: accounts.billerOffline, productCode: 'ELECTRICITY' },
      options,
    );
    expect(validation).toMatchObject({ status: 'declined', declineReason: 'not_supported', rawCode: '4010' });
    expect(await biller.vend(vend(accounts.billerOffline, 'off'), options)).toMatchObject({
      rawCode: '4010',
    });
  });

  it('shows arrears and makes them the minimum; the high-minimum account refuses smaller amounts', async () => {
    const biller = createBillerSimulator();
    const arrears = await biller.validateAccount(
      { accountNumber: accounts.arrears, productCode: 'WATER' },
      options,
    );
    expect(arrears).toMatchObject({
      status: 'succeeded',
      data: { arrears: money(5_000n, ZAR), amountMin: money(5_000n, ZAR) },
    });
    const below = await biller.validateAccount(
      { accountNumber: accounts.highMinimum, productCode: 'ELECTRICITY', amount: money(9_000n, ZAR) },
      options,
    );
    expect(below).toMatchObject({ status: 'declined', declineReason: 'invalid_amount', rawCode: '2050' });
  });

  it('fails a vend with the Transact Result code named by the account, after a successful validation', async () => {
    const biller = createBillerSimulator();
    for (const code of ['2201', '2213', '2239']) {
      const accountNumber = accounts.vendFailsWith(code);
      const validation = await biller.validateAccount({ accountNumber, productCode: 'AIRTIME' }, options);
      expect(validation.status).toBe('succeeded');
      const outcome = await biller.vend(
        { reference: `f${code}`, accountNumber, productCode: 'AIRTIME', amount: money(1_000n, ZAR) },
        options,
      );
      expect(outcome).toMatchObject({ status: 'declined', rawCode: code });
    }
  });

  it('vends a voucher PIN and serial for airtime, and units with an electricity token', async () => {
    const biller = createBillerSimulator();
    const airtime = await biller.vend(
      { reference: 'air', accountNumber: '27820001234', productCode: 'AIRTIME', amount: money(1_000n, ZAR) },
      options,
    );
    expect(airtime).toMatchObject({
      status: 'succeeded',
      data: { token: expect.stringMatching(/^\d{16}$/), serialNumber: expect.stringMatching(/^SN\d{12}$/) },
    });
    const electricity = await biller.vend(vend(accounts.valid, 'units'), options);
    expect(electricity).toMatchObject({ data: { units: '60.0 kWh' } });
  });

  it('describes the customer for the validation answer', async () => {
    const outcome = await createBillerSimulator().validateAccount(
      { accountNumber: '2341234567891', productCode: 'ELECTRICITY', amount: money(9_000n, ZAR) },
      options,
    );
    expect(outcome).toMatchObject({
      status: 'succeeded',
      data: {
        tariff: 'Residential',
        meterNumber: '2341234567891',
        customer: { address: expect.any(String), phone: expect.stringMatching(/^27\d{9}$/) },
      },
    });
  });
});
