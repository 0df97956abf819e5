import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectConsoleErrors, launchBrowser, screenshot } from '../browser.js';
import { startTestApp, type TestApp } from '../harness.js';
import { overflowsHorizontally, seriousAxeViolations } from '../portal/browser-helpers.js';
import { asUser } from '../portal/helpers.js';
import { contextWith, listen, seedPortal } from '../portal/page-fixtures.js';

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

describe('every console page in Chromium: no console errors, no serious axe violations, fits 375 px', () => {
  it('renders each page', async () => {
    const pages: Array<[string, string, string]> = [
      ['health', '/console', 'System health'],
      ['access-requests', '/console/access-requests', 'Access requests'],
      ['access-requests-all', '/console/access-requests?status=all', 'Access requests'],
      ['merchants', '/console/merchants', 'Merchants'],
      ['merchant', `/console/merchants/${seeded.merchantId}`, 'Pages & Co'],
      ['payments', '/console/payments?environment=sandbox', 'Payments'],
      ['connectors', '/console/connectors', 'Connectors'],
      ['ledger', '/console/ledger', 'Ledger'],
      ['webhooks', '/console/webhooks', 'Webhook deliveries'],
      ['jobs', '/console/jobs?state=queued', 'Jobs'],
      ['audit', `/console/audit?merchant_id=${seeded.merchantId}`, 'Audit log'],
      ['charts', '/console/charts', 'Charts (all merchants)'],
      ['operators', '/console/operators', 'Operators'],
    ];
    for (const [name, path, title] of pages) {
      const context = await contextWith(browser, base, 'payloom_console', seeded.operator);
      const page = await context.newPage();
      const errors = collectConsoleErrors(page);
      expect((await page.goto(path))?.status(), path).toBe(200);
      expect(await page.locator('h1').textContent(), path).toBe(title);
      expect(await seriousAxeViolations(page), path).toEqual([]);
      await screenshot(page, `console-${name}`);
      await page.setViewportSize({ width: 375, height: 800 });
      expect(await overflowsHorizontally(page), `${path} at 375 px`).toBe(false);
      expect(errors, path).toEqual([]);
      await context.close();
    }
    for (const path of ['/console/signin', '/console/reset']) {
      const context = await contextWith(browser, base, 'payloom_console', undefined, 375);
      const page = await context.newPage();
      const errors = collectConsoleErrors(page);
      expect((await page.goto(path))?.status(), path).toBe(200);
      expect(await seriousAxeViolations(page), path).toEqual([]);
      expect(errors, path).toEqual([]);
      await context.close();
    }
  }, 240_000);

  it('shows the ledger verified and the merchant’s payment across merchants', async () => {
    const context = await contextWith(browser, base, 'payloom_console', seeded.operator);
    const page = await context.newPage();
    await page.goto('/console/ledger');
    await page.locator('[data-ledger-verified]').waitFor();
    await page.goto(`/console/payments?merchant_id=${seeded.merchantId}`);
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator('tbody').textContent()).toContain('1.50 GBP');
    await context.close();
  });

  it('configures connectors from the product entry (validated by the product API) and grants a capability', async () => {
    const context = await contextWith(browser, base, 'payloom_console', seeded.operator);
    const page = await context.newPage();
    const errors = collectConsoleErrors(page);
    await page.goto('/console/connectors');
    const create = page.getByLabel('New carriers (JSON, validated by the API)');
    const example = JSON.parse(await create.inputValue()) as Record<string, unknown>;
    await create.fill(JSON.stringify({ ...example, mcc: 'abc' }));
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.locator('[data-form-error]').last().textContent()).toMatch(/mcc/);
    expect(errors).toEqual([
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    errors.length = 0;
    await create.fill(JSON.stringify({ ...example, name: 'Console <i>Mobile</i>', mnc: '98' }));
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.locator('tr', { hasText: 'Console <i>Mobile</i>' }).count()).toBe(1);

    await page.goto(`/console/merchants/${seeded.merchantId}`);
    await page.getByLabel('Allowed').selectOption('true');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('p.ok').textContent()).toBe('Saved.');
    const log = await t.request('GET', `/v1/audit-log?limit=5`, { key: t.demo.operator.apiKey });
    expect(
      (log.body.data as Array<{ action: string; actor_id: string; status_code: number }>).find((e) =>
        e.action.endsWith('/send-bill'),
      ),
    ).toMatchObject({ actor_id: seeded.operator.userId, status_code: 200 });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('rejects with a reason from the queue; a support operator sees no buttons and the API refuses it', async () => {
    const context = await contextWith(browser, base, 'payloom_console', seeded.operator);
    const page = await context.newPage();
    await page.goto('/console/access-requests');
    const card = page.locator('[data-access-id]', { hasText: 'Pages live' });
    await card.getByLabel('Reason (shown to the merchant)').fill('Send us your <b>licence</b>');
    // The page reloads after the API answers; the pending queue no longer lists it.
    await Promise.all([page.waitForEvent('load'), card.getByRole('button', { name: 'Reject' }).click()]);
    expect(await page.locator('[data-access-id]', { hasText: 'Pages live' }).count()).toBe(0);
    await page.goto('/console/access-requests?status=rejected');
    expect(await page.locator('[data-access-id]', { hasText: 'Pages live' }).textContent()).toContain(
      'Send us your <b>licence</b>',
    );
    await context.close();

    const created = await t.request('POST', '/v1/operator-users', {
      headers: asUser(seeded.operator),
      body: { email: 'support@pages.test', role: 'support' },
    });
    expect(created.status).toBe(201);
    const signin = await t.request('POST', '/v1/auth/signin', {
      body: { email: 'support@pages.test', password: created.body.password, kind: 'operator' },
    });
    const support = {
      cookie: String(signin.headers['set-cookie']).split(';')[0] ?? '',
      csrf: signin.body.csrf_token as string,
      userId: signin.body.user.id as string,
    };
    const again = await t.request('POST', '/v1/access-requests', {
      headers: asUser(seeded.owner, 'production'),
      body: { product: 'carrier-billing', name: 'Second try' },
    });
    const denied = await t.request('POST', `/v1/access-requests/${again.body.id}/approve`, {
      headers: asUser(support),
      body: {},
    });
    expect(denied.status).toBe(403);
    const supportContext = await contextWith(browser, base, 'payloom_console', support);
    const supportPage = await supportContext.newPage();
    await supportPage.goto('/console/access-requests');
    expect(await supportPage.locator('[data-access-id]', { hasText: 'Second try' }).count()).toBe(1);
    expect(await supportPage.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await supportContext.close();
  });
});
