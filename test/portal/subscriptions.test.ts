import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { asUser, signIn, signUp, verifyLatestMail, type Session } from './helpers.js';

let t: TestApp;
let owner: Session & { merchantId: string };
let operator: Session;

beforeAll(async () => {
  t = await startTestApp();
  owner = await signUp(t, 'owner@subs.test', 'Subs');
  await verifyLatestMail(t, owner);
  const ops = await t.request('POST', '/v1/operator-users', {
    key: t.demo.operator.apiKey,
    body: { email: 'ops@subs.test', role: 'admin' },
  });
  operator = await signIn(t, {
    email: 'ops@subs.test',
    password: ops.body.password as string,
    kind: 'operator',
  });
});
afterAll(async () => {
  await t.close();
});

async function dcb(
  path: string,
  method: string,
  cred: Record<string, string>,
  body: Record<string, unknown>,
) {
  return t.request('POST', `${path}/${method}`, {
    headers: { 'x-infomedia-api-key': cred.secret ?? '' },
    body: { u: cred.username, p: cred.password, ...body },
  });
}

describe('subscriptions (product access) from the portal, credentials in the product’s shape', () => {
  it('subscribes in sandbox, issues carrier-billing credentials that work, and counts the payment in the stats', async () => {
    const sub = await t.request('POST', '/v1/access-requests', {
      headers: asUser(owner),
      body: { product: 'carrier-billing', name: 'My game' },
    });
    expect(sub.body).toMatchObject({ status: 'approved', environment: 'sandbox', name: 'My game' });
    const issued = await t.request('POST', `/v1/subscriptions/${sub.body.id}/credentials`, {
      headers: asUser(owner),
    });
    expect(issued.status).toBe(201);
    const cred = issued.body.credential as Record<string, string>;
    expect(cred).toMatchObject({ dialect: 'carrier_billing', environment: 'sandbox', name: 'My game' });
    expect(cred.secret).toMatch(/^[0-9A-Za-z]{40}$/);
    expect(cred.username).toMatch(/^cb_/);
    expect(cred.password).toMatch(/^[0-9A-Za-z]{24}$/);
    const productId = issued.body.example_values.productId as number;
    expect(productId).toBeGreaterThan(0);
    const listed = await t.request('GET', '/v1/credentials', { headers: { cookie: owner.cookie } });
    expect(listed.text).not.toContain(cred.secret);

    const msisdn = '447700900123';
    const pin = await dcb('/dcbsb', 'PinGenerateWithParams', cred, {
      mx: msisdn,
      productId,
      params: [
        { key: 'amount', value: '2.50' },
        { key: 'description', value: 'Coins' },
      ],
    });
    expect(pin.body.status).toBe('Success');
    const sms = await t.request('GET', `/v1/sandbox/sms?to=${msisdn}&limit=1`, {
      headers: { cookie: owner.cookie },
    });
    const code = sms.body.data[0].code as string;
    const bill = await dcb('/dcbsb', 'SendBillWithPin', cred, {
      mx: msisdn,
      productId,
      pinId: pin.body.pinId,
      params: [{ key: 'PIN', value: code }],
    });
    expect(bill.body.status).toBe('Success');

    const stats = await t.request('GET', '/v1/stats', { headers: { cookie: owner.cookie } });
    expect(stats.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(stats.body.days).toEqual([
      {
        day: today,
        product: 'carrier-billing',
        outcome: 'succeeded',
        currency: 'GBP',
        count: 1,
        volume_minor: '250',
      },
    ]);
    expect(stats.body.totals).toEqual({ count: 1, succeeded: 1, failed: 0, success_rate: 1 });
    const bad = await t.request('GET', '/v1/stats?from=2026-05-01&to=2026-04-01', {
      headers: { cookie: owner.cookie },
    });
    expect(bad.status).toBe(400);
    const allStats = await t.request('GET', `/v1/stats?merchant_id=${owner.merchantId}`, {
      headers: { cookie: operator.cookie },
    });
    expect(allStats.body.totals.count).toBe(1);

    const charts = await t.request('GET', '/portal/charts', { headers: { cookie: owner.cookie } });
    expect(charts.text).toContain('data-count="1"');
    expect(charts.text).toContain('2.50 GBP');
  });

  it('rotates with overlap, renames and cancels (credentials revoked at once)', async () => {
    const subs = await t.request('GET', '/v1/access-requests', { headers: { cookie: owner.cookie } });
    const id = subs.body.data[0].id as string;
    const issued = await t.request('POST', `/v1/subscriptions/${id}/credentials`, { headers: asUser(owner) });
    const rotated = await t.request('POST', `/v1/credentials/${issued.body.credential.id}/rotate`, {
      headers: asUser(owner),
      body: { overlap_seconds: 3600 },
    });
    expect(rotated.status).toBe(201);
    const old = await t.request('GET', `/v1/credentials/${issued.body.credential.id}`, {
      headers: { cookie: owner.cookie },
    });
    expect(old.body.status).toBe('expiring');
    const renamed = await t.request('PATCH', `/v1/access-requests/${id}`, {
      headers: asUser(owner),
      body: { name: '' },
    });
    expect(renamed.status).toBe(400);
    expect(renamed.body.errors[0].field).toBe('/name');
    const cancelled = await t.request('POST', `/v1/subscriptions/${id}/cancel`, { headers: asUser(owner) });
    expect(cancelled.body).toMatchObject({ status: 'revoked', decision_reason: 'Cancelled by the merchant' });
    const dead = await dcb('/dcbsb', 'GetTransaction', rotated.body as Record<string, string>, { txid: 'x' });
    expect(dead.status).toBe(401);
    const twice = await t.request('POST', `/v1/subscriptions/${id}/cancel`, { headers: asUser(owner) });
    expect(twice.status).toBe(409);
  });

  it('sends production to the operator, who approves in the console with a session; then credentials work on /dcb', async () => {
    const prod = await t.request('POST', '/v1/access-requests', {
      headers: asUser(owner, 'production'),
      body: { product: 'carrier-billing', name: 'Live game' },
    });
    expect(prod.body.status).toBe('pending');
    const noCsrf = await t.request('POST', `/v1/access-requests/${prod.body.id}/approve`, {
      headers: { cookie: operator.cookie },
      body: {},
    });
    expect(noCsrf.status).toBe(403);
    const rejected = await t.request('POST', `/v1/access-requests/${prod.body.id}/reject`, {
      headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf },
      body: { reason: 'Tell us about your <b>business</b> first' },
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', decided_by: operator.userId });
    const page = await t.request('GET', '/portal/products/carrier-billing', {
      headers: { cookie: owner.cookie },
    });
    expect(page.text).toContain('Tell us about your &lt;b&gt;business&lt;/b&gt; first');

    const again = await t.request('POST', '/v1/access-requests', {
      headers: asUser(owner, 'production'),
      body: { product: 'carrier-billing', name: 'Live game' },
    });
    const approved = await t.request('POST', `/v1/access-requests/${again.body.id}/approve`, {
      headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf },
      body: {},
    });
    expect(approved.body.status).toBe('approved');
    const fragment = await t.request('GET', `/portal/fragments/subscriptions/${again.body.id}`, {
      headers: { cookie: owner.cookie },
    });
    expect(fragment.text).toContain('data-status="approved"');
    expect(fragment.text).not.toContain('hx-trigger');
    const issued = await t.request('POST', `/v1/subscriptions/${again.body.id}/credentials`, {
      headers: asUser(owner, 'production'),
    });
    expect(issued.status).toBe(201);
    expect(issued.body.credential.environment).toBe('production');
    const sandboxPath = await dcb(
      '/dcbsb',
      'GetTransaction',
      issued.body.credential as Record<string, string>,
      { txid: 'x' },
    );
    expect(sandboxPath.status).toBe(401);
  });
});
