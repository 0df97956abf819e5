import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { basic, planBody, seriesBody, sp, spDemo, subscriptionBody } from './helpers.js';

let t: TestApp;
let call: ReturnType<typeof sp>;

beforeAll(async () => {
  t = await startTestApp();
  call = sp(t);
});
afterAll(async () => t.close());

describe('SmartPay dialect: authentication, errors, CORS', () => {
  it('demo-credentials names the dialect keys, the widget script and the allowed origins', () => {
    const demo = spDemo(t);
    expect(demo.apiBaseUrl).toMatch(/\/smartpay$/);
    expect(demo.merchantKey).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(demo.authenticationKey).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(demo.widgetScriptUrl).toMatch(/\/smartpay\/widget\/sp_[a-z0-9]+\/sdk\.js$/);
    expect(demo.allowedOrigins.length).toBeGreaterThan(0);
  });

  it('needs x-api-key and Basic auth on every call: missing or wrong is 403 naming the header', async () => {
    const demo = spDemo(t);
    const noKey = await t.request('GET', '/smartpay/plans', {
      headers: { authorization: basic(demo.merchantKey, demo.authenticationKey) },
    });
    expect(noKey.status).toBe(403);
    expect(noKey.body).toMatchObject({
      status: 403,
      errorCode: 'FORBIDDEN',
      field: 'x-api-key',
      error: 'Forbidden',
    });
    const noBasic = await t.request('GET', '/smartpay/plans', { headers: { 'x-api-key': demo.merchantKey } });
    expect(noBasic.status).toBe(403);
    expect(noBasic.body.field).toBe('Authorization');
    const wrongPassword = await t.request('GET', '/smartpay/plans', {
      headers: { 'x-api-key': demo.merchantKey, authorization: basic(demo.merchantKey, 'wrong') },
    });
    expect(wrongPassword.status).toBe(403);
    const otherUser = await t.request('GET', '/smartpay/plans', {
      headers: { 'x-api-key': demo.merchantKey, authorization: basic('someone', demo.authenticationKey) },
    });
    expect(otherUser.status).toBe(403);
    const bearer = await t.request('GET', '/smartpay/plans', {
      headers: { 'x-api-key': demo.merchantKey, authorization: 'Bearer abc' },
    });
    expect(bearer.status).toBe(401);
    expect(bearer.body.errorCode).toBe('UNAUTHORIZED');
    expect((await call('GET', '/plans')).status).toBe(200);
  });

  it('answers CORS preflights and echoes the origin', async () => {
    const pre = await t.request('OPTIONS', '/smartpay/plans', {
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/x-api-key/i);
    const get = await call('GET', '/plans', { headers: { origin: 'https://shop.example' } });
    expect(get.headers['access-control-allow-origin']).toBe('https://shop.example');
  });

  it('renders unknown routes, bad JSON and unknown ids in the one error body', async () => {
    const missing = await call('GET', '/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ errorCode: 'NOT_FOUND', path: '/smartpay/nothing-here' });
    expect(missing.body.requestId).toMatch(/^req_/);
    expect(missing.body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{2}Z$/);
    const badJson = await call('POST', '/plans', {
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body.errorCode).toBe('INVALID_JSON');
    const unknownPlan = await call('GET', '/plans/SubscriptionPlan-12033695-99d8-4dc6-bf51-db64ef27620b');
    expect(unknownPlan.status).toBe(404);
    expect(unknownPlan.body.field).toBe('subscriptionPlanId');
    const notAnId = await call('GET', '/plans/42');
    expect(notAnId.status).toBe(404);
  });
});

describe('SmartPay plans', () => {
  it('creates, reads, lists, updates and soft-deletes a plan in the vendor format', async () => {
    const created = await call('POST', '/plans', {
      body: planBody({
        recurrentAmount: '90.99',
        trialDurationPeriod: 14,
        trialDurationUnit: 'day',
        merchantMetadata: '{"a":1}',
      }),
    });
    expect(created.status).toBe(201);
    const plan = created.body;
    expect(plan.id).toMatch(/^SubscriptionPlan-[0-9a-f-]{36}$/);
    expect(plan).toMatchObject({
      recurrentAmount: 90.99,
      currencyIsoCode: 'EUR',
      trialDurationPeriod: 14,
      trialDurationUnit: 'day',
      billingCycles: -1,
      prepaid: true,
      deletedAt: null,
    });
    expect(plan.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{2}Z$/);
    expect((await call('GET', `/plans/${plan.id}`)).body).toEqual(plan);
    // Prefix case from the vendor's samples is accepted.
    expect((await call('GET', `/plans/${plan.id.toLowerCase()}`)).status).toBe(200);

    const removedTrial = await call('PATCH', `/plans/${plan.id}`, {
      body: { trialDurationPeriod: null, trialDurationUnit: null, recurrentAmount: 12 },
    });
    expect(removedTrial.status).toBe(200);
    expect(removedTrial.body).toMatchObject({
      trialDurationPeriod: null,
      trialDurationUnit: null,
      recurrentAmount: 12,
    });

    const halfTrial = await call('PATCH', `/plans/${plan.id}`, { body: { trialDurationPeriod: 3 } });
    expect(halfTrial.status).toBe(400);
    expect(halfTrial.body.field).toBe('trialDurationUnit');

    expect((await call('DELETE', `/plans/${plan.id}`)).status).toBe(204);
    const deleted = await call('GET', `/plans/${plan.id}`);
    expect(deleted.body.deletedAt).not.toBeNull();
    const onlyDeleted = await call('GET', '/plans?deleted=TRUE');
    expect(onlyDeleted.body.data.map((p: { id: string }) => p.id)).toContain(plan.id);
    const live = await call('GET', '/plans?deleted=false');
    expect(live.body.data.map((p: { id: string }) => p.id)).not.toContain(plan.id);
  });

  it('pages from zero with the vendor envelope and ignores unknown or invalid filters', async () => {
    for (let i = 0; i < 5; i++) await call('POST', '/plans', { body: planBody({ name: `Paged ${i}` }) });
    const first = await call('GET', '/plans?page=0&pageSize=2&name=Paged%201&bogus=1');
    expect(first.body).toMatchObject({ page: 0, pageSize: 2, count: 1, totalPages: 1 });
    const all = await call('GET', '/plans?page=1&pageSize=2&createdAtGte=not-a-date');
    expect(all.body.page).toBe(1);
    expect(all.body.data).toHaveLength(2);
    expect(all.body.totalPages).toBe(Math.ceil(all.body.count / 2));
    const bad = await call('GET', '/plans?page=-1&pageSize=abc');
    expect(bad.body).toMatchObject({ page: 0, pageSize: 10 });
  });

  const badPlans: [string, Record<string, unknown>, string][] = [
    ['missing name', { name: undefined }, 'name'],
    ['empty name', { name: '' }, 'name'],
    ['too long name', { name: 'x'.repeat(256) }, 'name'],
    ['description of wrong type', { description: 5 }, 'description'],
    ['amount with too many decimals', { recurrentAmount: '9.999' }, 'recurrentAmount'],
    ['zero amount', { recurrentAmount: 0 }, 'recurrentAmount'],
    ['negative amount', { recurrentAmount: -1 }, 'recurrentAmount'],
    ['amount not a number', { recurrentAmount: 'ten' }, 'recurrentAmount'],
    ['amount too large', { recurrentAmount: '1000000000000.00' }, 'recurrentAmount'],
    ['unknown currency', { currencyIsoCode: 'XXZ' }, 'currencyIsoCode'],
    ['JPY with decimals', { currencyIsoCode: 'JPY', recurrentAmount: '1.5' }, 'recurrentAmount'],
    ['billingUnit week', { billingUnit: 'week' }, 'billingUnit'],
    ['billingOccurrence zero', { billingOccurrence: 0 }, 'billingOccurrence'],
    ['billingOccurrence not integer', { billingOccurrence: 1.5 }, 'billingOccurrence'],
    ['billingCycles 121', { billingCycles: 121 }, 'billingCycles'],
    ['billingCycles -2', { billingCycles: -2 }, 'billingCycles'],
    ['billingCycles 0', { billingCycles: 0 }, 'billingCycles'],
    ['trial period 29', { trialDurationPeriod: 29, trialDurationUnit: 'day' }, 'trialDurationPeriod'],
    ['trial period without unit', { trialDurationPeriod: 3 }, 'trialDurationUnit'],
    ['trial unit without period', { trialDurationUnit: 'day' }, 'trialDurationPeriod'],
    ['prepaid not boolean', { prepaid: 'yes' }, 'prepaid'],
    ['metadata too long', { merchantMetadata: 'm'.repeat(256) }, 'merchantMetadata'],
  ];
  for (const [name, change, field] of badPlans) {
    it(`refuses a plan with ${name} (400 naming ${field}, nothing stored)`, async () => {
      const before = (await call('GET', '/plans')).body.count;
      const response = await call('POST', '/plans', { body: planBody(change) });
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
      expect(['INVALID_FIELD', 'MISSING_FIELD']).toContain(response.body.errorCode);
      expect((await call('GET', '/plans')).body.count).toBe(before);
    });
  }

  it('keeps exact decimals from numbers and strings', async () => {
    const big = await call('POST', '/plans', { body: planBody({ recurrentAmount: '999999999999.99' }) });
    expect(big.status).toBe(201);
    expect(big.text).toContain('"recurrentAmount":999999999999.99');
    const jpy = await call('POST', '/plans', {
      body: planBody({ currencyIsoCode: 'JPY', recurrentAmount: 1200 }),
    });
    expect(jpy.body.recurrentAmount).toBe(1200);
  });
});

describe('SmartPay subscriptions and payment series (objects)', () => {
  let planId: string;
  beforeAll(async () => {
    planId = (await call('POST', '/plans', { body: planBody() })).body.id;
  });

  it('creates a subscription in status created with a pending billing agreement', async () => {
    const created = await call('POST', '/subscriptions', {
      body: subscriptionBody(planId, { externalMerchantId: 'MC_1', customReferences: { custom1: 'a' } }),
    });
    expect(created.status).toBe(201);
    const sub = created.body;
    expect(sub.id).toMatch(/^Subscription-[0-9a-f-]{36}$/);
    expect(sub).toMatchObject({
      status: 'created',
      planId,
      billingCyclesRemaining: -1,
      balance: 0,
      timezone: 'Europe/Berlin',
      billingAgreement: { status: 'pending', storedPaymentOptionReference: null },
      customReferences: { custom1: 'a', custom2: null, custom3: null },
    });
    expect(sub.billingAgreementId).toMatch(/^BillingAgreement-/);
    const listed = await call('GET', '/subscriptions?externalMerchantId=MC_1');
    expect(listed.body.data.map((s: { id: string }) => s.id)).toEqual([sub.id]);
    const byStatus = await call('GET', '/subscriptions?status=active');
    expect(byStatus.body.data.map((s: { id: string }) => s.id)).not.toContain(sub.id);
  });

  it('PATCHes addresses partially and refuses to pause a subscription that is not active (409)', async () => {
    const sub = (await call('POST', '/subscriptions', { body: subscriptionBody(planId) })).body;
    const patched = await call('PATCH', `/subscriptions/${sub.id}`, {
      body: {
        billingAddress: { addressLine2: 'Bavaria', number: '2' },
        billingCyclesRemaining: 6,
        consumer: { emailAddress: 'new@example.com' },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.billingAddress).toMatchObject({
      addressLine1: 'Hauptstrasse',
      addressLine2: 'Bavaria',
      number: '2',
    });
    expect(patched.body.consumer.emailAddress).toBe('new@example.com');
    expect(patched.body.billingCyclesRemaining).toBe(6);
    const pause = await call('PATCH', `/subscriptions/${sub.id}`, { body: { status: 'paused' } });
    expect(pause.status).toBe(409);
    expect(pause.body).toMatchObject({ errorCode: 'INVALID_STATE', field: 'status' });
    expect((await call('GET', `/subscriptions/${sub.id}`)).body.status).toBe('created');
    const badStatus = await call('PATCH', `/subscriptions/${sub.id}`, { body: { status: 'canceled' } });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.field).toBe('status');
    expect((await call('DELETE', `/subscriptions/${sub.id}`)).status).toBe(204);
    const canceled = (await call('GET', `/subscriptions/${sub.id}`)).body;
    expect(canceled.status).toBe('canceled');
    expect(canceled.deletedAt).not.toBeNull();
    expect(canceled.billingAgreement.status).toBe('canceled');
    expect((await call('PATCH', `/subscriptions/${sub.id}`, { body: { status: 'active' } })).status).toBe(
      409,
    );
  });

  const badSubscriptions: [string, (planId: string) => Record<string, unknown>, number, string][] = [
    ['missing planId', (p) => subscriptionBody(p, { planId: undefined }), 400, 'planId'],
    [
      'unknown plan',
      (p) => subscriptionBody(p, { planId: 'SubscriptionPlan-12033695-99d8-4dc6-bf51-db64ef27620b' }),
      404,
      'planId',
    ],
    [
      'missing customerAccountId',
      (p) => subscriptionBody(p, { customerAccountId: '' }),
      400,
      'customerAccountId',
    ],
    [
      'too long customerAccountId',
      (p) => subscriptionBody(p, { customerAccountId: 'c'.repeat(126) }),
      400,
      'customerAccountId',
    ],
    [
      'past startDate',
      (p) => subscriptionBody(p, { startDate: '2020-01-01T10:00:00.000+01:00' }),
      400,
      'startDate',
    ],
    ['startDate not a date', (p) => subscriptionBody(p, { startDate: 'tomorrow' }), 400, 'startDate'],
    ['unknown timezone', (p) => subscriptionBody(p, { timezone: 'Mars/Olympus' }), 400, 'timezone'],
    [
      'missing billingAddress',
      (p) => subscriptionBody(p, { billingAddress: undefined }),
      400,
      'billingAddress',
    ],
    [
      'billingAddress without city',
      (p) =>
        subscriptionBody(p, {
          billingAddress: { addressLine1: 'a', number: '1', postCode: '1', countryCode: 'DE' },
        }),
      400,
      'billingAddress.city',
    ],
    [
      'US address without state',
      (p) =>
        subscriptionBody(p, {
          billingAddress: { addressLine1: 'a', number: '1', city: 'NY', postCode: '1', countryCode: 'US' },
        }),
      400,
      'billingAddress.state',
    ],
    ['no consumer', (p) => subscriptionBody(p, { consumer: undefined }), 400, 'consumer'],
    [
      'consumer with bad email',
      (p) =>
        subscriptionBody(p, {
          consumer: {
            firstName: 'a',
            lastName: 'b',
            emailAddress: 'no',
            title: 'Mr',
            dateOfBirth: '1990-01-01',
          },
        }),
      400,
      'consumer.emailAddress',
    ],
    [
      'consumer with bad title',
      (p) =>
        subscriptionBody(p, {
          consumer: {
            firstName: 'a',
            lastName: 'b',
            emailAddress: 'a@b.co',
            title: 'Dr',
            dateOfBirth: '1990-01-01',
          },
        }),
      400,
      'consumer.title',
    ],
    [
      'unknown custom reference',
      (p) => subscriptionBody(p, { customReferences: { custom9: 'x' } }),
      400,
      'customReferences.custom9',
    ],
    ['metadata of wrong type', (p) => subscriptionBody(p, { merchantMetadata: 5 }), 400, 'merchantMetadata'],
  ];
  for (const [name, body, status, field] of badSubscriptions) {
    it(`refuses a subscription with ${name} (${status} naming ${field}, nothing stored)`, async () => {
      const before = (await call('GET', '/subscriptions')).body.count;
      const response = await call('POST', '/subscriptions', { body: body(planId) });
      expect(response.status).toBe(status);
      expect(response.body.field).toBe(field);
      expect((await call('GET', '/subscriptions')).body.count).toBe(before);
    });
  }

  it('refuses a subscription on a deleted plan', async () => {
    const plan = (await call('POST', '/plans', { body: planBody() })).body;
    await call('DELETE', `/plans/${plan.id}`);
    const response = await call('POST', '/subscriptions', { body: subscriptionBody(plan.id) });
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('planId');
  });

  it('creates, patches and lists payment series; a transaction before a card is stored is 409', async () => {
    const created = await call('POST', '/payment-series', {
      body: seriesBody({ externalReference: 'PS-1', externalMerchantId: 'M-PS' }),
    });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^PaymentSeries-/);
    expect(created.body.billingAgreement).toBeNull();
    const patched = await call('PATCH', `/payment-series/${created.body.id}`, {
      body: { merchantMetadata: 'x', externalReference: 'PS-2' },
    });
    expect(patched.body).toMatchObject({ merchantMetadata: 'x', externalReference: 'PS-2' });
    const listed = await call('GET', '/payment-series?externalReference=PS-2');
    expect(listed.body.count).toBe(1);
    const charge = await call('POST', `/payment-series/${created.body.id}/transactions`, {
      body: { amount: '7.3', description: 'first' },
    });
    expect(charge.status).toBe(409);
    expect(charge.body).toMatchObject({ errorCode: 'INVALID_STATE', field: 'paymentSeriesId' });
    const payments = await t.request('GET', '/v1/payments?product=subscriptions', {
      key: t.demo.native.apiKey,
    });
    expect(payments.body.data).toHaveLength(0);
    const badAmount = await call('POST', `/payment-series/${created.body.id}/transactions`, {
      body: { amount: '7.333', description: 'x' },
    });
    expect(badAmount.status).toBe(400);
    expect(badAmount.body.field).toBe('amount');
    const noDescription = await call('POST', `/payment-series/${created.body.id}/transactions`, {
      body: { amount: 1 },
    });
    expect(noDescription.body.field).toBe('description');
    const badCurrency = await call('POST', '/payment-series', {
      body: seriesBody({ currencyIsoCode: 'EURO' }),
    });
    expect(badCurrency.body.field).toBe('currencyIsoCode');
  });

  it('honours Idempotency-Key: the same create twice makes one plan', async () => {
    const first = await call('POST', '/plans', {
      body: planBody({ name: 'Idem' }),
      idempotencyKey: 'plan-idem-1',
    });
    const second = await call('POST', '/plans', {
      body: planBody({ name: 'Idem' }),
      idempotencyKey: 'plan-idem-1',
    });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    const reused = await call('POST', '/plans', {
      body: planBody({ name: 'Other' }),
      idempotencyKey: 'plan-idem-1',
    });
    expect(reused.status).toBe(409);
    expect(reused.body.errorCode).toBe('IDEMPOTENCY_CONFLICT');
  });
});
