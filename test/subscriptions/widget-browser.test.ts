import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectConsoleErrors, launchBrowser, screenshot } from '../browser.js';
import { startTestApp, type TestApp } from '../harness.js';
import { planBody, seriesBody, sp, spDemo, subscriptionBody } from './helpers.js';

/**
 * The card widget in Chromium, really cross-origin: the merchant's page on 127.0.0.1:A loads sdk.js from
 * Payloom on localhost:B, whose iframe holds the card form. A page on an origin the merchant did not allow
 * gets ERR_CONFIG. Needs `npm run build` (the browser bundles).
 */
let t: TestApp;
let call: ReturnType<typeof sp>;
let browser: Browser;
let merchant: Server;
let foreign: Server;
let payloomOrigin: string;
let scriptUrl: string;

function merchantPage(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>
<h1>Checkout</h1><div id="widget"></div><div id="selected"></div><div id="submit"></div><pre id="result"></pre>
<script src="${scriptUrl}"></script>
<script>
const params = new URLSearchParams(location.search);
window.SmartPaySubscriptionsSdk.renderWidget({
  containerId: 'widget', selectedPaymentContainerId: 'selected', submitButtonContainerId: 'submit',
  objectId: params.get('objectId'), objectType: params.get('objectType'),
  termsAndConditionsText: 'I agree to be charged monthly.',
  successHandler: (data) => { document.getElementById('result').textContent = JSON.stringify({ ok: data }); },
  errorHandler: (code, message) => { document.getElementById('result').textContent = JSON.stringify({ error: code, message }); },
});
</script></body></html>`;
}

function serve(): Promise<Server> {
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end(merchantPage()),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  t = await startTestApp();
  call = sp(t);
  await t.app.listen({ port: 0, host: 'localhost' });
  const port = (t.app.server.address() as AddressInfo).port;
  payloomOrigin = `http://localhost:${port}`;
  scriptUrl = `${payloomOrigin}${new URL(spDemo(t).widgetScriptUrl).pathname}`;
  merchant = await serve();
  foreign = await serve();
  const merchantOrigin = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`;
  const put = await t.request('PUT', '/v1/subscriptions/settings', {
    key: t.demo.native.apiKey,
    body: { allowed_origins: [merchantOrigin] },
  });
  expect(put.status).toBe(200);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => merchant.close(resolve));
  await new Promise((resolve) => foreign.close(resolve));
  await t.close();
});

async function open(
  server: Server,
  objectType: string,
  objectId: string,
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  const errors = collectConsoleErrors(page);
  const port = (server.address() as AddressInfo).port;
  await page.goto(`http://127.0.0.1:${port}/?objectType=${objectType}&objectId=${objectId}`);
  return { page, errors };
}

async function result(page: Page): Promise<Record<string, unknown>> {
  await page.waitForFunction(() => (document.getElementById('result')?.textContent ?? '') !== '');
  const text = (await page.textContent('#result')) ?? '{}';
  await page.evaluate(() => {
    const el = document.getElementById('result');
    if (el) el.textContent = '';
  });
  return JSON.parse(text) as Record<string, unknown>;
}

async function newSubscription(customer: string): Promise<string> {
  const planId = (await call('POST', '/plans', { body: planBody() })).body.id as string;
  return (
    await call('POST', '/subscriptions', { body: subscriptionBody(planId, { customerAccountId: customer }) })
  ).body.id as string;
}

describe('card widget in Chromium across origins', () => {
  it('checks the card as it is typed, stores it through the iframe and calls successHandler', async () => {
    const id = await newSubscription('browser-1');
    const { page, errors } = await open(merchant, 'subscription', id);
    const frame = page.frameLocator('iframe');
    await frame.locator('#number').fill('4242 4242 4242 4241');
    await expect
      .poll(() => frame.locator('#number-error').textContent())
      .toBe('This card number is not valid.');
    await frame.locator('#expiry').fill('1220');
    await expect.poll(() => frame.locator('#expiry-error').textContent()).toBe('The card has expired.');
    await page.click('#submit button');
    expect(await result(page)).toMatchObject({ error: 'ERROR_INVALID_INPUT' });

    await frame.locator('#number').fill('4242424242424242');
    await expect.poll(() => frame.locator('#number').inputValue()).toBe('4242 4242 4242 4242');
    await expect.poll(() => frame.locator('#brand').textContent()).toBe('Visa');
    await frame.locator('#expiry').fill('12/40');
    await frame.locator('#cvc').fill('123');
    await screenshot(page, 'subscriptions-widget');
    await page.click('#submit button');
    const ok = (await result(page)).ok as Record<string, unknown>;
    expect(ok.storedPaymentOptionReference).toMatch(/^[0-9a-f]{32}$/);
    expect(ok.billingAgreementId).toMatch(/^BillingAgreement-/);
    expect(await page.textContent('#selected')).toBe('Visa 424242******4242');
    expect((await call('GET', `/subscriptions/${id}`)).body.status).toBe('active');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('shows the 3-D Secure challenge in the iframe for the challenge test card', async () => {
    const series = (
      await call('POST', '/payment-series', { body: seriesBody({ customerAccountId: 'browser-3ds' }) })
    ).body.id as string;
    const { page } = await open(merchant, 'payment-series', series);
    const frame = page.frameLocator('iframe');
    await frame.locator('#number').fill('4000000000003220');
    await frame.locator('#expiry').fill('12/40');
    await frame.locator('#cvc').fill('123');
    await frame.locator('#cvc').press('Enter');
    await frame.locator('#challenge-complete').click();
    expect(((await result(page)).ok as Record<string, unknown>).objectId).toBe(series);
    expect((await call('GET', `/payment-series/${series}`)).body.billingAgreement.status).toBe('active');
    await page.context().close();
  });

  it('offers the customer’s stored cards and reports a declined card', async () => {
    const id = await newSubscription('browser-1');
    const { page } = await open(merchant, 'subscription', id);
    const frame = page.frameLocator('iframe');
    await expect.poll(() => frame.locator('#stored-cards label').count()).toBe(2);
    await page.click('#submit button');
    expect(((await result(page)).ok as Record<string, unknown>).shortCardNumber).toBe('424242******4242');

    const other = await newSubscription('browser-declined');
    const second = await open(merchant, 'subscription', other);
    const f2 = second.page.frameLocator('iframe');
    await f2.locator('#number').fill('4000000000000002');
    await f2.locator('#expiry').fill('12/40');
    await f2.locator('#cvc').fill('123');
    await second.page.click('#submit button');
    expect(await result(second.page)).toMatchObject({ error: 'ERROR_DECLINED' });
    expect((await call('GET', `/subscriptions/${other}`)).body.status).toBe('created');
    await page.context().close();
    await second.page.context().close();
  });

  it('refuses a page on an origin the merchant did not allow', async () => {
    const id = await newSubscription('browser-foreign');
    const { page } = await open(foreign, 'subscription', id);
    expect(await result(page)).toMatchObject({ error: 'ERR_CONFIG' });
    expect(await page.locator('iframe').count()).toBe(0);
    await page.context().close();
    const foreignOrigin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    const base = new URL(spDemo(t).widgetScriptUrl).pathname.replace(/\/sdk\.js$/, '');
    const frame = await fetch(
      `${payloomOrigin}${base}/frame?objectType=subscription&objectId=${id}&parentOrigin=${encodeURIComponent(foreignOrigin)}`,
    );
    expect(frame.status).toBe(403);
    expect(frame.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});
