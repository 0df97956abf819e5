import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectConsoleErrors, launchBrowser, screenshot } from '../browser.js';
import { startTestApp, type TestApp } from '../harness.js';
import { overflowsHorizontally, seriousAxeViolations } from './browser-helpers.js';
import { asUser, signUp, verifyLatestMail, type Session } from './helpers.js';
import { contextWith, listen } from './page-fixtures.js';

let t: TestApp;
let browser: Browser;
let base: string;
let owner: Session & { merchantId: string };

beforeAll(async () => {
  t = await startTestApp();
  owner = await signUp(t, 'owner@product-pages.test', 'Product Pages');
  await verifyLatestMail(t, owner);
  for (const product of ['bill-payment', 'subscriptions', 'agreements']) {
    const sub = await t.request('POST', '/v1/access-requests', {
      headers: asUser(owner),
      body: { product, name: `My ${product}` },
    });
    if (sub.status !== 201) throw new Error(`subscribe ${product}: ${sub.status} ${sub.text}`);
  }
  base = await listen(t);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await t.close();
});

async function send(page: Page, method: string): Promise<{ status: string; body: string }> {
  await page.selectOption('#tryit-method', { value: method });
  await page.click('#tryit-send');
  await page.waitForSelector('#tryit-out-status');
  return {
    status: (await page.textContent('#tryit-out-status')) ?? '',
    body: (await page.textContent('#tryit-out-body')) ?? '',
  };
}

describe('the newer products’ portal pages in Chromium', () => {
  it('renders each product page and its Try It page without console errors or serious axe violations', async () => {
    for (const [product, title] of [
      ['bill-payment', 'Bill payment'],
      ['subscriptions', 'Subscriptions'],
      ['agreements', 'Agreements'],
    ] as const) {
      for (const [path, h1] of [
        [`/portal/products/${product}`, title],
        [`/portal/products/${product}/try-it?env=sandbox`, `Try It · ${title}`],
      ] as const) {
        const context = await contextWith(browser, base, 'payloom_portal', owner);
        const page = await context.newPage();
        const errors = collectConsoleErrors(page);
        expect((await page.goto(path))?.status(), path).toBe(200);
        expect(await page.locator('h1').textContent(), path).toBe(h1);
        expect(await seriousAxeViolations(page), path).toEqual([]);
        await page.setViewportSize({ width: 375, height: 800 });
        expect(await overflowsHorizontally(page), `${path} at 375 px`).toBe(false);
        expect(errors, path).toEqual([]);
        await context.close();
      }
    }
  }, 240_000);

  it('agreements journey: issue credentials, token, create an agreement in Try It, accept it on the payer page, capture the one-off', async () => {
    const context = await contextWith(browser, base, 'payloom_portal', owner);
    await context.route('https://example.com/**', (route) => route.abort());
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await page.goto('/portal/products/agreements/try-it?env=sandbox');
    await page.click('form[data-then="secret"] button[type="submit"]');
    await page.waitForSelector('#tryit-secret .secret-box');
    const shown = (await page.textContent('#tryit-secret')) ?? '';
    for (const label of ['Application client id', 'OAuth client secret', 'Refresh token', 'Provider id']) {
      expect(shown).toContain(label);
    }
    expect(await page.textContent('#tryit-credentials')).toContain('Using this subscription');

    const token = await send(page, 'Token (refresh_token grant)');
    expect(token.status).toMatch(/^200 /);
    const created = await send(page, 'Create agreement');
    expect(created.status, created.body).toMatch(/^201 /);
    const answer = JSON.parse(created.body) as {
      id: string;
      one_off_payment_id: string;
      links: { rel: string; href: string }[];
    };
    const link = answer.links.find((l) => l.rel === 'mobile-pay');
    expect(link).toBeDefined();
    await screenshot(page, 'portal-agreements-try-it');

    // The payer opens the mobile-pay link (on this test server) and accepts.
    const landing = new URL(link?.href ?? '');
    await page.goto(`${base}${landing.pathname}${landing.search}`);
    // The accept form answers 303 to the agreement's user-redirect (example.com, not fetched here).
    const [accepted] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(base)),
      page.click('button.accept'),
    ]);
    expect(accepted.status()).toBe(303);
    expect(accepted.headers().location).toBe('https://example.com/thanks');
    await page.waitForURL((url) => !url.href.startsWith(base));

    // Back in Try It (same tab: credentials and learned ids are kept), the one-off is captured.
    await page.goto('/portal/products/agreements/try-it?env=sandbox');
    const agreement = await send(page, 'Get agreement');
    expect(JSON.parse(agreement.body)).toMatchObject({ id: answer.id, status: 'Active' });
    const capture = await send(page, 'Capture one-off payment');
    expect(capture.status, capture.body).toMatch(/^204 /);
    const oneOff = await send(page, 'Get one-off payment');
    expect(JSON.parse(oneOff.body)).toMatchObject({ id: answer.one_off_payment_id, status: 'Captured' });
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
