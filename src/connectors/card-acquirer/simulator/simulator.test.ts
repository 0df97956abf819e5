import { describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors/errors.js';
import { money, parseCurrency } from '../../../core/money/money.js';
import {
  describeCardAcquirerConformance,
  type CardAcquirerConformanceMagic,
} from '../../contracts/card-acquirer.conformance.js';
import {
  CardAcquirerSimulator,
  cardAcquirerSimulatorDefaultConfig,
  createCardAcquirerSimulator,
} from './card-acquirer-simulator.js';
import { cardMagicNumbers as pans, parseSimulatorCardToken, simulatorCardToken } from './magic-values.js';

const EUR = parseCurrency('EUR');
const options = { timeoutMs: 1_000 };
const amount = money(2_500n, EUR);
const token = (pan: string) => simulatorCardToken(pan);

const magic: CardAcquirerConformanceMagic = {
  amount,
  cardSucceeds: token(pans.visaSucceeds),
  cardDeclines: { cardToken: token(pans.insufficientFunds), declineReason: 'insufficient_funds' },
  cardUnknownToken: 'tok_not_from_this_vault',
  cardPending: { cardToken: token(pans.authenticationThenSucceeds), settlesAs: 'succeeded' },
  cardUnknownButAuthorized: token(pans.unknownButAuthorized),
  cardNotSent: token(pans.notSent),
  cardHangs: token(pans.hangs),
  cardDeclinesMerchantInitiated: {
    cardToken: token(pans.declinesMerchantInitiated),
    declineReason: 'insufficient_funds',
  },
  unsupportedCurrency: parseCurrency('JPY'),
};

describeCardAcquirerConformance('card acquirer simulator', () => createCardAcquirerSimulator(), magic);
describeCardAcquirerConformance(
  'card acquirer simulator (no partial capture, no refunds, no MIT)',
  () =>
    CardAcquirerSimulator.create({
      ...cardAcquirerSimulatorDefaultConfig,
      partialCaptureSupported: false,
      refundsSupported: false,
      partialRefundsSupported: false,
      merchantInitiatedSupported: false,
    }),
  {
    ...magic,
    cardDeclines: { cardToken: token(pans.expiredCard), declineReason: 'expired_card' },
    cardPending: { cardToken: token(pans.authenticationThenDeclines), settlesAs: 'declined' },
  },
);

const authorize = (pan: string, reference: string, captureMode: 'automatic' | 'manual' = 'manual') => ({
  reference,
  cardToken: token(pan),
  amount,
  captureMode,
  storeForMerchantInitiated: true,
});

describe('card acquirer simulator tokens', () => {
  it('tokenizes a PAN into brand, last four and behaviour, and nothing more of the number', () => {
    expect(simulatorCardToken(pans.visaSucceeds)).toBe('simtok_visa_4242_approve');
    expect(simulatorCardToken('5555 5555 5555 4444')).toBe('simtok_mastercard_4444_approve');
    expect(simulatorCardToken(pans.doNotHonor)).toBe('simtok_visa_0002_do_not_honor');
    expect(simulatorCardToken('378282246310005')).toBe('simtok_amex_0005_approve');
    expect(simulatorCardToken('6011111111111117')).toBe('simtok_card_1117_approve');
    expect(parseSimulatorCardToken('simtok_visa_0069_expired_card')).toEqual({
      brand: 'visa',
      last4: '0069',
      behaviour: 'expired_card',
    });
    expect(parseSimulatorCardToken('simtok_visa_0069_fly')).toBeUndefined();
    expect(parseSimulatorCardToken('simtok_diners_0069_approve')).toBeUndefined();
  });

  it('refuses to tokenize what is not a card number', () => {
    for (const bad of ['4242424242424241', '4242', 'abcd424242424242', '42424242424242424242']) {
      expect(() => simulatorCardToken(bad), bad).toThrow(AppError);
    }
  });
});

describe('card acquirer simulator magic card numbers', () => {
  const cases = [
    [pans.visaSucceeds, 'succeeded', undefined, '00'],
    [pans.mastercardSucceeds, 'succeeded', undefined, '00'],
    ['4111111111111111', 'succeeded', undefined, '00'],
    [pans.doNotHonor, 'declined', 'do_not_honor', '05'],
    [pans.insufficientFunds, 'declined', 'insufficient_funds', '51'],
    [pans.expiredCard, 'declined', 'expired_card', '54'],
    [pans.lostCard, 'declined', 'account_blocked', '41'],
    [pans.authenticationThenSucceeds, 'pending', undefined, '1A'],
    [pans.authenticationThenDeclines, 'pending', undefined, '1A'],
    [pans.unknownButAuthorized, 'unknown', undefined, 'TIMEOUT'],
    [pans.notSent, 'not_sent', undefined, 'ECONNREFUSED'],
    [pans.declinesMerchantInitiated, 'succeeded', undefined, '00'],
  ] as const;
  for (const [pan, status, declineReason, rawCode] of cases) {
    it(`authorizing ${pan} → ${status}${declineReason ? ` (${declineReason})` : ''}, raw ${rawCode}`, async () => {
      const acquirer = createCardAcquirerSimulator();
      const outcome = await acquirer.authorize(authorize(pan, 'a1'), options);
      expect(outcome).toMatchObject({ status, rawCode });
      if (declineReason) expect(outcome).toMatchObject({ declineReason });
    });
  }

  it('skips authentication for merchant-initiated charges, but not the card’s own declines', async () => {
    const acquirer = createCardAcquirerSimulator();
    const first = await acquirer.authorize(authorize(pans.visaSucceeds, 'cit', 'automatic'), options);
    if (first.status !== 'succeeded') throw new Error('expected the first authorization to succeed');
    const mit = (pan: string, reference: string) => ({
      reference,
      cardToken: token(pan),
      amount,
      previousNetworkTransactionId: first.data.networkTransactionId,
    });
    expect(
      (await acquirer.chargeMerchantInitiated(mit(pans.authenticationThenSucceeds, 'm1'), options)).status,
    ).toBe('succeeded');
    expect(await acquirer.chargeMerchantInitiated(mit(pans.expiredCard, 'm2'), options)).toMatchObject({
      declineReason: 'expired_card',
    });
    expect(
      await acquirer.chargeMerchantInitiated(mit(pans.declinesMerchantInitiated, 'm3'), options),
    ).toMatchObject({
      declineReason: 'insufficient_funds',
      rawCode: '51',
    });
  });

  it('declines a merchant-initiated charge that cites no network transaction id of ours', async () => {
    const acquirer = createCardAcquirerSimulator();
    const outcome = await acquirer.chargeMerchantInitiated(
      {
        reference: 'm',
        cardToken: token(pans.visaSucceeds),
        amount,
        previousNetworkTransactionId: 'whatever',
      },
      options,
    );
    expect(outcome).toMatchObject({ status: 'declined', declineReason: 'invalid_state', rawCode: '12' });
  });

  it('derives network transaction ids and connector references from our reference alone', async () => {
    const one = await createCardAcquirerSimulator().authorize(authorize(pans.visaSucceeds, 'same'), options);
    const two = await createCardAcquirerSimulator().authorize(authorize(pans.visaSucceeds, 'same'), options);
    expect(one).toEqual(two);
    expect(one).toMatchObject({
      data: { networkTransactionId: expect.stringMatching(/^ntid_[0-9a-f]{16}$/) },
    });
  });
});

describe('card acquirer simulator rules', () => {
  it('blocks a second capture while the first is pending, and counts it once settled', async () => {
    const acquirer = createCardAcquirerSimulator();
    await acquirer.authorize(authorize(pans.visaSucceeds, 'auth'), options);
    acquirer.script.nextOutcome('pending', { operation: 'capture', settlesAs: 'never' });
    const half = money(1_000n, EUR);
    expect(
      (await acquirer.capture({ reference: 'c1', authorizationReference: 'auth', amount: half }, options))
        .status,
    ).toBe('pending');
    expect(
      await acquirer.capture({ reference: 'c2', authorizationReference: 'auth', amount: half }, options),
    ).toMatchObject({ declineReason: 'invalid_state' });
    expect(await acquirer.void({ reference: 'v1', authorizationReference: 'auth' }, options)).toMatchObject({
      declineReason: 'invalid_state',
    });
    expect(await acquirer.status({ reference: 'auth' }, options)).toMatchObject({
      data: { capturedAmount: money(0n, EUR) },
    });
    expect(acquirer.settle('c1', 'succeeded')).toBe(true);
    expect(await acquirer.status({ reference: 'auth' }, options)).toMatchObject({
      data: { capturedAmount: half },
    });
  });

  it('releases a pending refund’s hold when it is declined', async () => {
    const acquirer = createCardAcquirerSimulator();
    await acquirer.authorize(authorize(pans.visaSucceeds, 'sale', 'automatic'), options);
    acquirer.script.nextOutcome('pending', { settlesAs: 'declined', declineReason: 'do_not_honor' });
    expect(
      (await acquirer.refund({ reference: 'r1', paymentReference: 'sale', amount }, options)).status,
    ).toBe('pending');
    expect(
      await acquirer.refund({ reference: 'r2', paymentReference: 'sale', amount }, options),
    ).toMatchObject({
      declineReason: 'invalid_amount',
    });
    expect((await acquirer.status({ reference: 'r1' }, options)).status).toBe('declined');
    expect(
      (await acquirer.refund({ reference: 'r3', paymentReference: 'sale', amount }, options)).status,
    ).toBe('succeeded');
  });

  it('reports each operation’s own status by its reference', async () => {
    const acquirer = createCardAcquirerSimulator();
    await acquirer.authorize(authorize(pans.visaSucceeds, 'a'), options);
    await acquirer.capture({ reference: 'c', authorizationReference: 'a', amount }, options);
    await acquirer.refund({ reference: 'r', paymentReference: 'a', amount: money(100n, EUR) }, options);
    await acquirer.authorize(authorize(pans.visaSucceeds, 'b'), options);
    await acquirer.void({ reference: 'v', authorizationReference: 'b' }, options);
    expect(await acquirer.status({ reference: 'c' }, options)).toMatchObject({
      data: { operation: 'capture', authorizationReference: 'a', amount },
    });
    expect(await acquirer.status({ reference: 'r' }, options)).toMatchObject({
      data: { operation: 'refund', paymentReference: 'a', amount: money(100n, EUR) },
    });
    expect(await acquirer.status({ reference: 'v' }, options)).toMatchObject({
      data: { operation: 'void', authorizationReference: 'b' },
    });
    expect(await acquirer.status({ reference: 'a' }, options)).toMatchObject({
      data: { capturedAmount: amount, refundedAmount: money(100n, EUR), voided: false, cardLast4: '4242' },
    });
  });
});

describe('card acquirer simulator scripting and config', () => {
  it('scripts outcomes for any operation, and lookups only to fail', async () => {
    const acquirer = createCardAcquirerSimulator();
    acquirer.script.nextOutcome('declined', { declineReason: 'limit_exceeded' });
    expect(await acquirer.authorize(authorize(pans.visaSucceeds, 'a'), options)).toMatchObject({
      declineReason: 'limit_exceeded',
      rawCode: '61',
    });
    acquirer.script.nextOutcome('unknown', { operation: 'status' });
    expect((await acquirer.status({ reference: 'a' }, options)).status).toBe('unknown');
    expect(() => acquirer.script.nextOutcome('succeeded', { operation: 'status' })).toThrow(
      /cannot be scripted/,
    );
    acquirer.reset();
    expect(acquirer.recordCount).toBe(0);
  });

  it('has a static id and validates its config', () => {
    expect(CardAcquirerSimulator.id).toBe('card-acquirer-simulator');
    expect(createCardAcquirerSimulator().id).toBe('card-acquirer-simulator');
    expect(() =>
      CardAcquirerSimulator.create({ ...cardAcquirerSimulatorDefaultConfig, refundsSupported: false }),
    ).toThrow(/partialRefundsSupported/);
    expect(() =>
      CardAcquirerSimulator.create({ ...cardAcquirerSimulatorDefaultConfig, currencies: 'EUR' }),
    ).toThrow(AppError);
  });
});

describe('card acquirer simulator: subscription test cards', () => {
  const verify = (pan: string, reference: string) => ({
    reference,
    cardToken: token(pan),
    amount: money(0n, EUR),
    captureMode: 'manual' as const,
    storeForMerchantInitiated: true,
  });
  const mit = (pan: string, reference: string, ntid: string, at: string) => ({
    reference,
    cardToken: token(pan),
    amount,
    previousNetworkTransactionId: ntid,
    initiatedAt: new Date(at),
  });

  it('verifies a card with a zero-amount authorization that yields a network transaction id', async () => {
    const outcome = await createCardAcquirerSimulator().authorize(verify(pans.visaSucceeds, 'v0'), options);
    expect(outcome).toMatchObject({
      status: 'succeeded',
      data: { networkTransactionId: expect.stringMatching(/^ntid_/) },
    });
  });

  it('declines merchant-initiated charges on the short-of-funds card for 2 days from the first, then approves', async () => {
    const acquirer = createCardAcquirerSimulator();
    const cit = await acquirer.authorize(verify(pans.merchantInitiatedShortForTwoDays, 'v1'), options);
    if (cit.status !== 'succeeded') throw new Error('the verification should succeed');
    const ntid = cit.data.networkTransactionId;
    const pan = pans.merchantInitiatedShortForTwoDays;
    expect(
      await acquirer.chargeMerchantInitiated(mit(pan, 'm1', ntid, '2030-01-01T09:00:00Z'), options),
    ).toMatchObject({
      declineReason: 'insufficient_funds',
      rawCode: '51',
    });
    expect(
      (await acquirer.chargeMerchantInitiated(mit(pan, 'm2', ntid, '2030-01-02T09:00:00Z'), options)).status,
    ).toBe('declined');
    expect(
      (await acquirer.chargeMerchantInitiated(mit(pan, 'm3', ntid, '2030-01-03T09:00:00Z'), options)).status,
    ).toBe('succeeded');
  });

  it('declines the lost card’s merchant-initiated charges as account_blocked and loses the timeout card’s answer', async () => {
    const acquirer = createCardAcquirerSimulator();
    const lost = await acquirer.authorize(verify(pans.merchantInitiatedLost, 'v2'), options);
    const lossy = await acquirer.authorize(verify(pans.merchantInitiatedAnswerLost, 'v3'), options);
    if (lost.status !== 'succeeded' || lossy.status !== 'succeeded')
      throw new Error('verifications should succeed');
    expect(
      await acquirer.chargeMerchantInitiated(
        mit(pans.merchantInitiatedLost, 'm4', lost.data.networkTransactionId, '2030-01-01T00:00:00Z'),
        options,
      ),
    ).toMatchObject({ status: 'declined', declineReason: 'account_blocked', rawCode: '41' });
    const answer = await acquirer.chargeMerchantInitiated(
      mit(pans.merchantInitiatedAnswerLost, 'm5', lossy.data.networkTransactionId, '2030-01-01T00:00:00Z'),
      options,
    );
    expect(answer).toMatchObject({ status: 'unknown', rawCode: 'TIMEOUT' });
    expect((await acquirer.status({ reference: 'm5' }, options)).status).toBe('succeeded');
  });
});
