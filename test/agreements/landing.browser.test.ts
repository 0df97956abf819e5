import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectConsoleErrors, launchBrowser, screenshot } from '../browser.js';
import { startTestApp, type TestApp } from '../harness.js';
import { agreementBody, MobilePayClient, startReceiver, type AgrDemo } from './helpers.js';

let t: TestApp;
let mp: MobilePayClient;
let browser: Browser;
let origin: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  t = await startTestApp();
  mp = new MobilePayClient(t, t.demo.agreements as AgrDemo);
  await mp.login();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  receiver = await startReceiver();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await receiver.close();
  await t.close();
});

/** The landing link as created, opened on this test server. */
function local(href: string): string {
  const url = new URL(href);
  return `${origin}${url.pathname}${url.search}`;
}

describe('agreements: the payer landing page in Chromium', () => {
  it('shows the agreement and one-off on a phone, accepts with a chosen source, and redirects', async () => {
    const created = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url, {
        one_off_payment: { amount: '80', external_id: 'OOP1', description: 'Down payment' },
      }),
    });
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    const response = await page.goto(local(created.body.links[0].href as string));
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    const text = await page.textContent('main');
    expect(text).toContain('Demo Streaming');
    expect(text).toContain('Basic');
    expect(text).toContain('10.00 DKK');
    expect(text).toContain('Monthly');
    expect(text).toContain('80.00 DKK');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow).toBe(false);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).not.toBe('rgba(0, 0, 0, 0)'); // the stylesheet loaded under the CSP
    await screenshot(page, 'agreements-landing');
    await page.check('input[value="4520000000"]');
    await Promise.all([page.waitForURL(`${receiver.url}/redirect`), page.click('button.accept')]);
    expect(errors).toEqual([]);
    const agreement = await mp.call('GET', `{p}/agreements/${created.body.id}`);
    expect(agreement.body.status).toBe('Active');
    const oneOff = await mp.call(
      'GET',
      `{p}/agreements/${created.body.id}/oneoffpayments/${created.body.one_off_payment_id}`,
    );
    expect(oneOff.body.status).toBe('Reserved');
    await context.close();
  });

  it('a card without money keeps the agreement pending and says so; reject then redirects', async () => {
    const created = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url, {
        one_off_payment: { amount: '5', external_id: 'OOP2', description: 'Start' },
      }),
    });
    const page = await browser.newPage();
    const errors = collectConsoleErrors(page);
    await page.goto(local(created.body.links[0].href as string));
    await page.check('input[value="4520000003"]');
    await page.click('button.accept');
    expect(await page.textContent('[role="alert"]')).toContain('could not be reserved');
    expect((await mp.call('GET', `{p}/agreements/${created.body.id}`)).body.status).toBe('Pending');
    await Promise.all([page.waitForURL(`${receiver.url}/redirect`), page.click('button.reject')]);
    expect((await mp.call('GET', `{p}/agreements/${created.body.id}`)).body.status).toBe('Rejected');
    // A 409/402 page is an answer, not a console error; the page itself logs none.
    expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
    await page.close();
  });
});
