import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectConsoleErrors, launchBrowser, screenshot } from '../browser.js';
import { startTestApp, type TestApp } from '../harness.js';
import { overflowsHorizontally, seriousAxeViolations } from './browser-helpers.js';
import { contextWith, listen, seedPortal } from './page-fixtures.js';

let t: TestApp;
let browser: Browser;
let base: string;
let seeded: Awaited<ReturnType<typeof seedPortal>>;

beforeAll(async () => {
  t = await startTestApp();
  seeded = await seedPortal(t);
  base = await listen(t);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await t.close();
});

const signedInPages = (paymentId: string): Array<[string, string, string]> => [
  ['products', '/portal/products', 'Products'],
  ['product-carrier-billing', '/portal/products/carrier-billing', 'Carrier billing'],
  ['try-it-sandbox', '/portal/products/carrier-billing/try-it?env=sandbox', 'Try It · Carrier billing'],
  [
    'try-it-production-pending',
    '/portal/products/carrier-billing/try-it?env=production',
    'Try It · Carrier billing',
  ],
  ['sandbox-tools', '/portal/sandbox', 'Sandbox tools'],
  ['sandbox-phone-all', '/portal/sandbox/phone', 'Sandbox phone'],
  ['mail-outbox', '/portal/sandbox/mail', 'Mail outbox'],
  ['test-clocks', '/portal/sandbox/clocks', 'Test clocks'],
  ['webhooks', '/portal/webhooks', 'Webhooks'],
  ['activity-filtered', '/portal/activity?status=succeeded&product=carrier-billing', 'Activity'],
  ['payment-detail', `/portal/activity/payments/${paymentId}`, `Payment ${paymentId}`],
  ['charts-range', '/portal/charts?from=2026-01-01&to=2026-12-31', 'Charts'],
  ['team', '/portal/team', 'Team'],
  ['account', '/portal/account', 'Account'],
];

const publicPages: Array<[string, string, string]> = [
  ['signin', '/portal/signin', 'Sign in'],
  ['signup', '/portal/signup', 'Create your Payloom account'],
  ['reset', '/portal/reset', 'Reset your password'],
  ['reset-confirm', '/portal/reset?token=abc', 'Choose a new password'],
  ['verify-email', '/portal/verify-email?token=abc', 'Verify your email'],
];

describe('every portal page in Chromium: no console errors, no serious axe violations, fits 375 px', () => {
  it('renders the signed-in pages', async () => {
    for (const [name, path, title] of signedInPages(seeded.paymentId)) {
      const context = await contextWith(browser, base, 'payloom_portal', seeded.owner);
      const page = await context.newPage();
      const errors = collectConsoleErrors(page);
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(200);
      expect(await page.locator('h1').textContent(), path).toBe(title);
      expect(await seriousAxeViolations(page), path).toEqual([]);
      await screenshot(page, `portal-${name}`);
      await page.setViewportSize({ width: 375, height: 800 });
      expect(await overflowsHorizontally(page), `${path} at 375 px`).toBe(false);
      expect(errors, path).toEqual([]);
      await context.close();
    }
  }, 240_000);

  it('renders the public pages', async () => {
    for (const [name, path, title] of publicPages) {
      const context = await contextWith(browser, base, 'payloom_portal', undefined, 375);
      const page = await context.newPage();
      const errors = collectConsoleErrors(page);
      expect((await page.goto(path))?.status(), path).toBe(200);
      expect(await page.locator('h1').textContent(), path).toBe(title);
      expect(await seriousAxeViolations(page), path).toEqual([]);
      expect(await overflowsHorizontally(page), path).toBe(false);
      if (name === 'signin') await screenshot(page, 'portal-signin-phone');
      expect(errors, path).toEqual([]);
      await context.close();
    }
  });

  it('shows dates in the viewer’s time zone and amounts by currency exponent', async () => {
    const context = await contextWith(browser, base, 'payloom_portal', seeded.owner);
    const page = await context.newPage();
    await page.goto(`/portal/activity/payments/${seeded.paymentId}`);
    const time = page.locator('time[data-local]').first();
    const iso = (await time.getAttribute('datetime')) ?? '';
    const expected = new Date(iso).toLocaleString('en-US', {
      timeZone: 'America/New_York',
      dateStyle: 'medium',
      timeStyle: 'medium',
    });
    expect(await time.textContent()).toBe(expected);
    expect(await page.locator('dl.props').textContent()).toContain('1.50 GBP');
    await context.close();
  });

  it('keeps filters and pages in the URL (back button works)', async () => {
    const context = await contextWith(browser, base, 'payloom_portal', seeded.owner);
    const page = await context.newPage();
    await page.goto('/portal/activity');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL('**/portal/activity?env=sandbox&status=failed&product=');
    expect(await page.locator('.empty').first().textContent()).toContain('No payments match');
    await page.goBack();
    await page.waitForURL('**/portal/activity');
    expect(await page.locator('tbody tr', { hasText: '447700900123' }).count()).toBe(1);
    await context.close();
  });

  it('sends a signed-out visitor to sign-in and back where they were going', async () => {
    const context = await contextWith(browser, base, 'payloom_portal', undefined);
    const page = await context.newPage();
    await page.goto('/portal/team');
    await page.waitForURL('**/portal/signin?next=%2Fportal%2Fteam');
    await page.getByLabel('Email').fill('owner@pages.test');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/portal/team');
    await context.close();
  });

  it('lists webhook deliveries with their attempts and replays one', async () => {
    const context = await contextWith(browser, base, 'payloom_portal', seeded.owner);
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await page.goto('/portal/webhooks');
    const row = page.locator('[data-delivery-id]').first();
    expect(await row.textContent()).toContain('https://example.com/hooks');
    await row.getByRole('button', { name: 'Replay' }).click();
    await expect
      .poll(async () => {
        const log = await t.request('GET', `/v1/audit-log?merchant_id=${seeded.merchantId}&limit=5`, {
          key: t.demo.operator.apiKey,
        });
        return (log.body.data as Array<{ action: string; actor_id: string }>).find((e) =>
          e.action.endsWith('/retry'),
        )?.actor_id;
      })
      .toBe(seeded.owner.userId);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('lets the owner change a teammate’s role on the team page', async () => {
    const context = await contextWith(browser, base, 'payloom_portal', seeded.owner);
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await page.goto('/portal/team');
    await page.getByLabel('Role of dev@pages.test').selectOption('viewer');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/v1/users/') && r.request().method() === 'PATCH'),
      page.getByRole('button', { name: 'Save role' }).click(),
    ]);
    expect(answer.status()).toBe(200);
    const users = await t.request('GET', '/v1/users', { headers: { cookie: seeded.owner.cookie } });
    expect(
      (users.body.data as Array<{ email: string; role: string }>).find((u) => u.email === 'dev@pages.test')
        ?.role,
    ).toBe('viewer');
    await page.waitForLoadState('load');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('runs no inline script: CSP blocks it even if markup were injected', async () => {
    const context = await contextWith(browser, base, 'payloom_portal', seeded.owner);
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await page.goto('/portal/products');
    const ran = await page.evaluate(async () => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      await new Promise((resolve) => setTimeout(resolve, 0));
      return (window as unknown as { __injected?: boolean }).__injected === true;
    });
    expect(ran).toBe(false);
    expect(errors.some((e) => e.includes('Content Security Policy'))).toBe(true);
    await context.close();
  });
});
