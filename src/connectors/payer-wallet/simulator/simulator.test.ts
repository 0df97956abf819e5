import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors/errors.js';
import { money, parseCurrency } from '../../../core/money/money.js';
import {
  describePayerWalletConformance,
  type PayerWalletConformanceMagic,
} from '../../contracts/payer-wallet.conformance.js';
import { walletMagicPayers as payers } from './magic-values.js';
import {
  PayerWalletSimulator,
  createPayerWalletSimulator,
  payerWalletSimulatorDefaultConfig,
} from './payer-wallet-simulator.js';

const DKK = parseCurrency('DKK');
const options = { timeoutMs: 1_000 };
const amount = money(9_900n, DKK);

const magic: PayerWalletConformanceMagic = {
  amount,
  payerApproves: payers.approves,
  payerRejects: payers.rejects,
  payerNeverAnswers: payers.neverAnswers,
  payerInsufficientFunds: payers.insufficientFunds,
  payerBlocked: payers.blocked,
  payerUnknownButRecorded: payers.unknownButRecorded,
  payerNotSent: payers.notSent,
  payerHangs: payers.hangs,
};

describePayerWalletConformance('payer wallet simulator', () => createPayerWalletSimulator(), magic);
describePayerWalletConformance(
  'payer wallet simulator (full captures, no refunds)',
  () =>
    PayerWalletSimulator.create({
      ...payerWalletSimulatorDefaultConfig,
      partialCaptureSupported: false,
      refundsSupported: false,
      partialRefundsSupported: false,
    }),
  { ...magic, amount: money(1_000n, parseCurrency('EUR')) },
);

const agreement = (payerId: string, reference: string) => ({
  reference,
  payerId,
  description: 'Weekly groceries',
  currency: DKK,
});
const payment = (agreementReference: string, reference: string) => ({
  reference,
  agreementReference,
  amount,
  description: 'Week 12',
});

describe('payer wallet simulator magic payers', () => {
  const agreementCases = [
    [payers.approves, 'pending', 'succeeded', undefined],
    ['4520000999', 'pending', 'succeeded', undefined],
    [payers.rejects, 'pending', 'declined', 'rejected_by_payer'],
    [payers.neverAnswers, 'pending', 'pending', undefined],
    [payers.insufficientFunds, 'pending', 'succeeded', undefined],
    [payers.unknownButRecorded, 'unknown', 'succeeded', undefined],
    [payers.notSent, 'not_sent', 'not_sent', undefined],
    [payers.blocked, 'declined', 'declined', 'account_blocked'],
    ['+4520000000', 'declined', 'declined', 'invalid_account'],
  ] as const;
  for (const [payerId, first, settled, declineReason] of agreementCases) {
    it(`agreement for ${payerId} → ${first}, then ${settled}${declineReason ? ` (${declineReason})` : ''}`, async () => {
      const wallet = createPayerWalletSimulator();
      expect((await wallet.requestAgreementApproval(agreement(payerId, 'agr'), options)).status).toBe(first);
      const status = await wallet.status({ reference: 'agr' }, options);
      expect(status.status).toBe(settled);
      if (declineReason) expect(status).toMatchObject({ declineReason });
    });
  }

  it('uses MobilePay-style raw codes: 40000 for a rejected agreement, 50001 for a rejected payment', async () => {
    const wallet = createPayerWalletSimulator();
    await wallet.requestAgreementApproval(agreement(payers.rejects, 'agr'), options);
    expect(await wallet.status({ reference: 'agr' }, options)).toMatchObject({ rawCode: '40000' });
    wallet.script.nextOutcome('succeeded', { operation: 'requestAgreementApproval' });
    await wallet.requestAgreementApproval(agreement(payers.rejects, 'agr2'), options);
    await wallet.requestPaymentApproval(payment('agr2', 'pay'), options);
    expect(await wallet.status({ reference: 'pay' }, options)).toMatchObject({
      status: 'declined',
      declineReason: 'rejected_by_payer',
      rawCode: '50001',
    });
  });

  it('lets a payer without funds approve the agreement but not pay', async () => {
    const wallet = createPayerWalletSimulator();
    await wallet.requestAgreementApproval(agreement(payers.insufficientFunds, 'agr'), options);
    await wallet.status({ reference: 'agr' }, options);
    expect((await wallet.requestPaymentApproval(payment('agr', 'p1'), options)).status).toBe('pending');
    expect(await wallet.status({ reference: 'p1' }, options)).toMatchObject({
      status: 'declined',
      declineReason: 'insufficient_funds',
    });
    expect(await wallet.reserve(payment('agr', 'p2'), options)).toMatchObject({
      status: 'declined',
      declineReason: 'insufficient_funds',
      rawCode: '50006',
    });
  });

  it('follows the agreement’s payer for reservations: an unknown answer, yet reserved', async () => {
    const wallet = createPayerWalletSimulator();
    expect(
      (await wallet.requestAgreementApproval(agreement(payers.unknownButRecorded, 'agr'), options)).status,
    ).toBe('unknown');
    expect((await wallet.status({ reference: 'agr' }, options)).status).toBe('succeeded');
    expect((await wallet.reserve(payment('agr', 'r'), options)).status).toBe('unknown');
    expect(await wallet.status({ reference: 'r' }, options)).toMatchObject({
      status: 'succeeded',
      data: { operation: 'reservation', approvedByPayer: false },
    });
  });
});

describe('payer wallet simulator payer simulation', () => {
  it('approve() and reject() decide a pending request once, as the payer in the app', async () => {
    const wallet = createPayerWalletSimulator();
    await wallet.requestAgreementApproval(agreement(payers.neverAnswers, 'a1'), options);
    await wallet.requestAgreementApproval(agreement(payers.neverAnswers, 'a2'), options);
    expect(wallet.approve('a1')).toBe(true);
    expect(wallet.reject('a1')).toBe(false);
    expect(wallet.reject('a2')).toBe(true);
    expect(wallet.approve('nope')).toBe(false);
    expect((await wallet.status({ reference: 'a1' }, options)).status).toBe('succeeded');
    expect(await wallet.status({ reference: 'a2' }, options)).toMatchObject({
      declineReason: 'rejected_by_payer',
      rawCode: '40000',
    });
    await wallet.requestPaymentApproval(payment('a1', 'p'), options);
    expect((await wallet.status({ reference: 'p' }, options)).status).toBe('pending');
    expect(wallet.approve('p')).toBe(true);
    expect(await wallet.status({ reference: 'p' }, options)).toMatchObject({
      status: 'succeeded',
      data: { approvedByPayer: true, amount },
    });
  });

  it('refuses to capture a payment the payer has not approved yet', async () => {
    const wallet = createPayerWalletSimulator();
    await wallet.requestAgreementApproval(agreement(payers.neverAnswers, 'a'), options);
    wallet.approve('a');
    await wallet.requestPaymentApproval(payment('a', 'p'), options);
    expect(
      await wallet.capture({ reference: 'c', reservationReference: 'p', amount }, options),
    ).toMatchObject({
      declineReason: 'invalid_state',
    });
    expect(await wallet.cancel({ reference: 'x', reservationReference: 'p' }, options)).toMatchObject({
      declineReason: 'invalid_state',
    });
  });
});

describe('payer wallet simulator scripting and config', () => {
  it('scripts any money-moving operation and lets status lookups fail', async () => {
    const wallet = createPayerWalletSimulator();
    wallet.script
      .nextOutcome('succeeded', { operation: 'requestAgreementApproval' })
      .nextOutcome('hang', { operation: 'reserve', applied: false })
      .nextOutcome('declined', { operation: 'capture', declineReason: 'limit_exceeded' });
    expect((await wallet.requestAgreementApproval(agreement(payers.neverAnswers, 'a'), options)).status).toBe(
      'succeeded',
    );
    expect((await wallet.reserve(payment('a', 'r'), { timeoutMs: 20 })).status).toBe('unknown');
    expect((await wallet.status({ reference: 'r' }, options)).status).toBe('not_sent');
    await wallet.reserve(payment('a', 'r2'), options);
    expect(
      await wallet.capture({ reference: 'c', reservationReference: 'r2', amount }, options),
    ).toMatchObject({
      declineReason: 'limit_exceeded',
      rawCode: 'Limit',
    });
    wallet.script.nextOutcome('not_sent', { operation: 'status' });
    expect(await wallet.status({ reference: 'r2' }, options)).toMatchObject({
      status: 'unknown',
      rawCode: 'ECONNREFUSED',
    });
    wallet.reset();
    expect(wallet.recordCount).toBe(0);
  });

  it('has a static id and validates its config', () => {
    expect(PayerWalletSimulator.id).toBe('payer-wallet-simulator');
    expect(createPayerWalletSimulator().capabilities().currencies).toContain(DKK);
    expect(() =>
      PayerWalletSimulator.create({ ...payerWalletSimulatorDefaultConfig, perTransactionMaxMinor: -1 }),
    ).toThrow(AppError);
  });

  it('asserts on caller bugs: descriptions over the limit, amounts in another currency than the agreement', async () => {
    const wallet = createPayerWalletSimulator();
    await expect(
      wallet.requestAgreementApproval(
        { ...agreement(payers.approves, 'a'), description: 'x'.repeat(61) },
        options,
      ),
    ).rejects.toThrow(/description/);
    await expect(
      wallet.requestAgreementApproval(
        { ...agreement(payers.approves, 'b'), amount: money(100n, parseCurrency('EUR')) },
        options,
      ),
    ).rejects.toThrow(/agreement currency/);
  });
});
