import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { advance, createClock, planBody, sp, storeCard, subscriptionBody } from './helpers.js';

let t: TestApp;
let call: ReturnType<typeof sp>;

beforeAll(async () => {
  t = await startTestApp();
  call = sp(t);
});
afterAll(async () => t.close());

async function subscribe(clock: string, plan: Record<string, unknown>, sub: Record<string, unknown> = {}) {
  const planId = (await call('POST', '/plans', { body: planBody(plan) })).body.id as string;
  const created = await call('POST', '/subscriptions', {
    body: subscriptionBody(planId, sub),
    headers: { 'x-payloom-test-clock': clock },
  });
  if (created.status !== 201) throw new Error(created.text);
  return created.body.id as string;
}

async function cycles(id: string) {
  return (await call('GET', `/subscriptions/${id}/billing-cycles?pageSize=100`)).body.data as Array<
    Record<string, unknown>
  >;
}

describe('billing cycles on a test clock', () => {
  it('a prepaid monthly plan with a 14-day trial bills on the trial end and every month after', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, { trialDurationPeriod: 14, trialDurationUnit: 'day' });
    const stored = await storeCard(t, 'subscription', id, '4242424242424242');
    expect(stored.status).toBe(200);
    const sub = (await call('GET', `/subscriptions/${id}`)).body;
    expect(sub).toMatchObject({
      status: 'active',
      trialStartDate: '2030-01-01',
      trialEndDate: '2030-01-15',
      nextBillingDate: '2030-01-15',
    });
    await advance(t, clock, '2030-12-20T00:00:00Z');
    const list = await cycles(id);
    expect(list.map((c) => c.billingDate)).toEqual([
      '2030-01-15',
      '2030-02-15',
      '2030-03-15',
      '2030-04-15',
      '2030-05-15',
      '2030-06-15',
      '2030-07-15',
      '2030-08-15',
      '2030-09-15',
      '2030-10-15',
      '2030-11-15',
      '2030-12-15',
      '2031-01-15',
    ]);
    expect(list.slice(0, 12).every((c) => c.status === 'Captured' && c.amount === 9.99)).toBe(true);
    expect(list[12]?.status).toBe('Scheduled');
    expect(list[0]).toMatchObject({
      billingPeriodStart: '2030-01-15',
      billingPeriodEnd: '2030-02-14',
      shortCardNumber: '424242******4242',
      billingAgreementName: 'Visa',
    });
  });
});

async function cycleDetail(id: string, cycleId: string) {
  return (await call('GET', `/subscriptions/${id}/billing-cycles/${cycleId}`)).body;
}

describe('retries, balance and manual retries', () => {
  it('a card short of funds for 2 days recovers through the automatic retries (+1 declined, +3 captured)', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, {});
    expect((await storeCard(t, 'subscription', id, '4000000000009953')).status).toBe(200);
    await advance(t, clock, '2030-01-10T00:00:00Z');
    const [first] = await cycles(id);
    expect(first).toMatchObject({ status: 'Captured', attempts: 3, billingDate: '2030-01-01' });
    const txs = first?.transactions as Array<Record<string, unknown>>;
    expect(txs.map((x) => [x.type, x.paymentStatus, x.declineReason])).toEqual([
      ['scheduled', 'declined', 'insufficient_funds'],
      ['retry', 'declined', 'insufficient_funds'],
      ['retry', 'captured', null],
    ]);
    expect(first?.paidAt).toBe('2030-01-04T09:00:00.00Z');
    expect((await call('GET', `/subscriptions/${id}`)).body.balance).toBe(0);
  });

  it('a permanently declined card ends Failed after +1/+3/+7, the balance carries forward, a new card and a manual retry capture it', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, { recurrentAmount: '10.00' });
    await storeCard(t, 'subscription', id, '4000000000000341');
    await advance(t, clock, '2030-01-20T00:00:00Z');
    const [failed, next] = await cycles(id);
    expect(failed).toMatchObject({ status: 'Failed', attempts: 4 });
    expect((failed?.transactions as unknown[]).length).toBe(4);
    expect(next).toMatchObject({ status: 'Scheduled', billingDate: '2030-02-01', amount: 10 });
    const sub = (await call('GET', `/subscriptions/${id}`)).body;
    expect(sub.balance).toBe(10);
    const oldAgreement = sub.billingAgreementId;

    // Manual retry with the same card fails again and the balance stays.
    const again = await call(
      'POST',
      `/subscriptions/${id}/billing-cycles/${String(failed?.id)}/manual-retries`,
      {
        body: { reason: 'Reprocessing a failed transaction' },
      },
    );
    expect(again.status).toBe(201);
    expect(again.body.paymentStatus).toBe('declined');
    expect((await call('GET', `/subscriptions/${id}`)).body.balance).toBe(10);

    // The customer stores a new card: a new agreement replaces the old one.
    expect((await storeCard(t, 'subscription', id, '5555555555554444')).status).toBe(200);
    const changed = (await call('GET', `/subscriptions/${id}`)).body;
    expect(changed.billingAgreementId).not.toBe(oldAgreement);
    expect(changed.billingAgreement).toMatchObject({ status: 'active', billingAgreementName: 'Mastercard' });

    const retry = await call(
      'POST',
      `/subscriptions/${id}/billing-cycles/${String(failed?.id)}/manual-retries`,
      {
        body: { reason: 'New card stored' },
      },
    );
    expect(retry.status).toBe(201);
    expect(retry.body.id).toMatch(/^retry-/);
    expect(retry.body.transactionId).toMatch(/^transaction-/);
    expect(retry.body.paymentStatus).toBe('captured');
    expect((await cycleDetail(id, String(failed?.id))).status).toBe('Captured');
    expect((await call('GET', `/subscriptions/${id}`)).body.balance).toBe(0);
    const listed = await call(
      'GET',
      `/subscriptions/${id}/billing-cycles/${String(failed?.id)}/manual-retries`,
    );
    expect(listed.body.count).toBe(2);
    const one = await call(
      'GET',
      `/subscriptions/${id}/billing-cycles/${String(failed?.id)}/manual-retries/${String(retry.body.id)}`,
    );
    expect(one.body.reason).toBe('New card stored');

    // A manual retry of a captured cycle is refused, nothing charged.
    const paymentsBefore = (
      await t.request('GET', '/v1/payments?product=subscriptions&limit=100', { key: t.demo.native.apiKey })
    ).body.data.length;
    const captured = await call(
      'POST',
      `/subscriptions/${id}/billing-cycles/${String(failed?.id)}/manual-retries`,
      { body: { reason: 'again' } },
    );
    expect(captured.status).toBe(409);
    expect(captured.body).toMatchObject({ errorCode: 'INVALID_STATE', field: 'billingCycleId' });
    const tooLong = await call(
      'POST',
      `/subscriptions/${id}/billing-cycles/${String(failed?.id)}/manual-retries`,
      { body: { reason: 'r'.repeat(129) } },
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.field).toBe('reason');
    const noReason = await call(
      'POST',
      `/subscriptions/${id}/billing-cycles/${String(failed?.id)}/manual-retries`,
      { body: {} },
    );
    expect(noReason.body.field).toBe('reason');
    const scheduled = await call(
      'POST',
      `/subscriptions/${id}/billing-cycles/${String(next?.id)}/manual-retries`,
      { body: { reason: 'early' } },
    );
    expect(scheduled.status).toBe(409);
    expect(
      (await t.request('GET', '/v1/payments?product=subscriptions&limit=100', { key: t.demo.native.apiKey }))
        .body.data.length,
    ).toBe(paymentsBefore);
  });

  it('a lost or stolen card fails the cycle at once, with no retry', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, {});
    await storeCard(t, 'subscription', id, '4000000000000267');
    await advance(t, clock, '2030-01-03T00:00:00Z');
    const [first] = await cycles(id);
    expect(first).toMatchObject({ status: 'Failed', attempts: 1 });
    expect((first?.transactions as Array<Record<string, unknown>>)[0]?.declineReason).toBe('account_blocked');
  });

  it('a charge whose answer was lost is settled by reconciliation, never charged again', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, {});
    await storeCard(t, 'subscription', id, '4000000000000309');
    await advance(t, clock, '2030-01-01T09:00:30Z');
    expect((await cycles(id))[0]).toMatchObject({ status: 'Processing' });
    await advance(t, clock, '2030-01-01T09:05:00Z');
    const [first] = await cycles(id);
    expect(first).toMatchObject({ status: 'Captured', attempts: 1 });
    expect((first?.transactions as unknown[]).length).toBe(1);
  });

  it('uses the merchant’s retry policy from the native API', async () => {
    const put = await t.request('PUT', '/v1/subscriptions/settings', {
      key: t.demo.native.apiKey,
      body: { retry_delays_days: [2] },
    });
    expect(put.status).toBe(200);
    const bad = await t.request('PUT', '/v1/subscriptions/settings', {
      key: t.demo.native.apiKey,
      body: { retry_delays_days: [3, 1] },
    });
    expect(bad.status).toBe(400);
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, {});
    await storeCard(t, 'subscription', id, '4000000000000341');
    await advance(t, clock, '2030-01-10T00:00:00Z');
    expect((await cycles(id))[0]).toMatchObject({ status: 'Failed', attempts: 2 });
    await t.request('PUT', '/v1/subscriptions/settings', {
      key: t.demo.native.apiKey,
      body: { retry_delays_days: [1, 3, 7] },
    });
  });
});

describe('pause, resume, cancel, limited plans', () => {
  it('charges nothing while paused (month 7 to 9) and credits the unused days on the first cycle after', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, {
      recurrentAmount: '31.00',
      trialDurationPeriod: 14,
      trialDurationUnit: 'day',
    });
    await storeCard(t, 'subscription', id, '4242424242424242');
    await advance(t, clock, '2030-07-20T12:00:00Z');
    const pause = await call('PATCH', `/subscriptions/${id}`, { body: { status: 'paused' } });
    expect(pause.status).toBe(200);
    expect(pause.body.status).toBe('paused');
    expect((await call('PATCH', `/subscriptions/${id}`, { body: { status: 'paused' } })).status).toBe(200);
    await advance(t, clock, '2030-09-20T12:00:00Z');
    const whilePaused = await cycles(id);
    expect(whilePaused.map((c) => c.billingDate)).toEqual([
      '2030-01-15',
      '2030-02-15',
      '2030-03-15',
      '2030-04-15',
      '2030-05-15',
      '2030-06-15',
      '2030-07-15',
    ]);
    const resume = await call('PATCH', `/subscriptions/${id}`, { body: { status: 'active' } });
    expect(resume.status).toBe(200);
    expect(resume.body).toMatchObject({ status: 'active', nextBillingDate: '2030-10-15' });
    await advance(t, clock, '2030-11-20T00:00:00Z');
    const after = await cycles(id);
    // Paused on 20 July in the period 15 July – 15 August: 26 of 31 days unused → 26.00 credited.
    expect(after.slice(7).map((c) => [c.billingDate, c.status, c.amount, c.credit])).toEqual([
      ['2030-10-15', 'Captured', 5, 26],
      ['2030-11-15', 'Captured', 31, 0],
      ['2030-12-15', 'Scheduled', 31, 0],
    ]);
  });

  it('DELETE cancels: no further cycles are charged', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, {});
    await storeCard(t, 'subscription', id, '4242424242424242');
    await advance(t, clock, '2030-02-10T00:00:00Z');
    expect((await call('DELETE', `/subscriptions/${id}`)).status).toBe(204);
    await advance(t, clock, '2030-06-10T00:00:00Z');
    const list = await cycles(id);
    expect(list.map((c) => c.status)).toEqual(['Captured', 'Captured']);
    expect((await call('GET', `/subscriptions/${id}`)).body).toMatchObject({
      status: 'canceled',
      nextBillingDate: null,
    });
  });

  it('counts billingCyclesRemaining down on success and finishes after the last cycle (post-paid)', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, { billingCycles: 3, prepaid: false });
    await storeCard(t, 'subscription', id, '4242424242424242');
    await advance(t, clock, '2030-02-02T00:00:00Z');
    expect((await call('GET', `/subscriptions/${id}`)).body.billingCyclesRemaining).toBe(2);
    await advance(t, clock, '2030-06-10T00:00:00Z');
    const list = await cycles(id);
    expect(list.map((c) => [c.billingDate, c.status])).toEqual([
      ['2030-02-01', 'Captured'],
      ['2030-03-01', 'Captured'],
      ['2030-04-01', 'Captured'],
    ]);
    expect((await call('GET', `/subscriptions/${id}`)).body).toMatchObject({
      status: 'finished',
      billingCyclesRemaining: 0,
    });
  });
});

describe('payment series charges', () => {
  it('honours Idempotency-Key on a PS transaction: one charge for two identical requests', async () => {
    const series = (
      await call('POST', '/payment-series', {
        body: {
          customerAccountId: 'ps-idem',
          currencyIsoCode: 'EUR',
          billingAddress: { addressLine1: 'a', number: '1', city: 'c', postCode: '1', countryCode: 'DE' },
          consumer: {
            firstName: 'a',
            lastName: 'b',
            emailAddress: 'a@b.co',
            title: 'Mr',
            dateOfBirth: '1990-01-01',
          },
        },
      })
    ).body.id as string;
    await storeCard(t, 'payment-series', series, '4242424242424242');
    const body = {
      amount: '5.00',
      description: 'order-42',
      customReferences: { custom1: 'x' },
      criteria: { channel: 'web' },
    };
    const first = await call('POST', `/payment-series/${series}/transactions`, {
      body,
      idempotencyKey: 'ps-42',
    });
    const second = await call('POST', `/payment-series/${series}/transactions`, {
      body,
      idempotencyKey: 'ps-42',
    });
    expect(first.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    expect(first.body).toMatchObject({
      paymentStatus: 'captured',
      payment: { amount: 5, currencyIsoCode: 'EUR', description: 'order-42' },
      criteria: { channel: 'web' },
    });
    expect((await call('GET', `/payment-series/${series}/transactions`)).body.count).toBe(1);
    const one = await call('GET', `/payment-series/${series}/transactions/${String(first.body.id)}`);
    expect(one.body.transactionLogs.length).toBe(2);
    const declinedCard = await call('POST', `/payment-series/${series}/transactions`, {
      body: { amount: 1, description: 'x', criteria: 'nope' },
    });
    expect(declinedCard.status).toBe(400);
    expect(declinedCard.body.field).toBe('criteria');
  });

  it('refuses a currency change on a plan without a new amount, and amounts in the wrong exponent', async () => {
    const plan = (await call('POST', '/plans', { body: planBody() })).body.id as string;
    const change = await call('PATCH', `/plans/${plan}`, { body: { currencyIsoCode: 'JPY' } });
    expect(change.status).toBe(400);
    expect(change.body.field).toBe('recurrentAmount');
    const jpy = await call('PATCH', `/plans/${plan}`, {
      body: { currencyIsoCode: 'JPY', recurrentAmount: '9.99' },
    });
    expect(jpy.status).toBe(400);
    expect(jpy.body.field).toBe('recurrentAmount');
    expect((await call('GET', `/plans/${plan}`)).body).toMatchObject({
      currencyIsoCode: 'EUR',
      recurrentAmount: 9.99,
    });
  });
});

describe('a card stored late', () => {
  it('bills from the period running when the card is stored, not the periods before it', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const id = await subscribe(clock, {});
    await advance(t, clock, '2030-03-05T00:00:00Z');
    await storeCard(t, 'subscription', id, '4242424242424242');
    await advance(t, clock, '2030-04-02T00:00:00Z');
    const list = await cycles(id);
    expect(list.map((c) => [c.billingDate, c.billingPeriodStart, c.status])).toEqual([
      ['2030-03-01', '2030-03-01', 'Captured'],
      ['2030-04-01', '2030-04-01', 'Captured'],
      ['2030-05-01', '2030-05-01', 'Scheduled'],
    ]);
    expect(list[0]?.paidAt).toBe('2030-03-05T00:00:00.00Z');
  });
});
