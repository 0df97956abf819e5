import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import type { TestApp } from '../harness.js';
import { asUser, signIn, signUp, verifyLatestMail, type Session } from './helpers.js';

/** A merchant with a sandbox subscription, a payment, a webhook endpoint and a test clock; an operator. */
export async function seedPortal(t: TestApp) {
  const owner = await signUp(t, 'owner@pages.test', 'Pages & Co');
  await verifyLatestMail(t, owner);
  const sub = await t.request('POST', '/v1/access-requests', {
    headers: asUser(owner),
    body: { product: 'carrier-billing', name: 'Pages sandbox' },
  });
  await t.request('POST', '/v1/access-requests', {
    headers: asUser(owner, 'production'),
    body: { product: 'carrier-billing', name: 'Pages live' },
  });
  const issued = await t.request('POST', `/v1/subscriptions/${sub.body.id}/credentials`, {
    headers: asUser(owner),
  });
  const cred = issued.body.credential as Record<string, string>;
  const productId = issued.body.example_values.productId as number;
  const dcb = (method: string, body: Record<string, unknown>) =>
    t.request('POST', `/dcbsb/${method}`, {
      headers: { 'x-infomedia-api-key': cred.secret ?? '' },
      body: { u: cred.username, p: cred.password, ...body },
    });
  const msisdn = '447700900123';
  const pin = await dcb('PinGenerateWithParams', {
    mx: msisdn,
    productId,
    params: [{ key: 'amount', value: '1.50' }],
  });
  const sms = await t.request('GET', `/v1/sandbox/sms?to=${msisdn}&limit=1`, {
    headers: { cookie: owner.cookie },
  });
  await dcb('SendBillWithPin', {
    mx: msisdn,
    productId,
    pinId: pin.body.pinId,
    params: [{ key: 'PIN', value: sms.body.data[0].code }],
  });
  const payments = await t.request('GET', '/v1/payments', { headers: { cookie: owner.cookie } });
  await t.request('POST', '/v1/webhook-endpoints', {
    headers: asUser(owner),
    body: { url: 'https://example.com/hooks', description: 'Orders' },
  });
  await t.request('POST', '/v1/users', {
    headers: asUser(owner),
    body: { email: 'dev@pages.test', role: 'developer' },
  });
  const testEvent = await t.request('POST', '/v1/webhook-endpoints/test-event', {
    headers: asUser(owner),
    body: {},
  });
  if (testEvent.status >= 300) throw new Error(`test event ${testEvent.status} ${testEvent.text}`);
  await t.request('POST', '/v1/sandbox/test-clocks', {
    headers: asUser(owner),
    body: { frozen_time: '2026-01-01T00:00:00Z', name: 'Renewals' },
  });
  const ops = await t.request('POST', '/v1/operator-users', {
    key: t.demo.operator.apiKey,
    body: { email: 'ops@pages.test', role: 'admin' },
  });
  const operator = await signIn(t, {
    email: 'ops@pages.test',
    password: ops.body.password as string,
    kind: 'operator',
  });
  return { owner, operator, paymentId: payments.body.data[0].id as string, merchantId: owner.merchantId };
}

export async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

export async function contextWith(
  browser: Browser,
  base: string,
  name: string,
  session: Session | undefined,
  width = 1280,
) {
  const context: BrowserContext = await browser.newContext({
    baseURL: base,
    viewport: { width, height: 900 },
    timezoneId: 'America/New_York',
    locale: 'en-US',
  });
  if (session) {
    const [cookieName, value] = session.cookie.split('=');
    await context.addCookies([
      { name: cookieName ?? name, value: value ?? '', url: base, httpOnly: true, sameSite: 'Lax' },
    ]);
  }
  return context;
}
