import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDatabaseCommand } from '../../src/commands.js';
import { totpCode } from '../../src/core/users/totp.js';
import { collectConsoleErrors, launchBrowser, screenshot } from '../browser.js';
import { startTestApp, type TestApp } from '../harness.js';

let t: TestApp;
let browser: Browser;
let base: string;

beforeAll(async () => {
  t = await startTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await t.close();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: base, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  const page = await context.newPage();
  return { context, page, errors: collectConsoleErrors(page) };
}

describe('seed 000 in a real browser: sign-up to approved production Try It', () => {
  it('walks the merchant and the operator through the whole journey', async () => {
    const { page, errors } = await newPage();

    // Sign up; the form validates inline with the API's own message and keeps what was typed.
    await page.goto('/portal/signup');
    await page.getByLabel('Business name').fill('Journey Games');
    await page.getByLabel('Email').fill('dev@journey.test');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect
      .poll(() => page.locator('[data-error-for="password"]').textContent())
      .toContain('at least 10 characters');
    expect(await page.getByLabel('Email').inputValue()).toBe('dev@journey.test');
    // That 400 was the point; from here on the console must stay clean.
    expect(errors).toEqual([
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    errors.length = 0;
    await page.getByLabel('Password').fill('journey passphrase 1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/portal/products');
    await expect.poll(() => page.locator('.banner.warn').textContent()).toContain('Verify your email');

    // Verify the email from the mail outbox.
    await page.goto('/portal/sandbox/mail');
    await page.getByRole('link', { name: '/portal/verify-email' }).click();
    await page.getByRole('button', { name: 'Verify my email' }).click();
    await page.waitForURL('**/portal/products');
    expect(await page.locator('.banner.warn').count()).toBe(0);

    // Products → carrier billing → sandbox subscription → credentials (shown once).
    await page.getByRole('link', { name: 'Open Carrier billing' }).click();
    await page.waitForURL('**/portal/products/carrier-billing');
    const sandbox = page.locator('[data-env-section="sandbox"]');
    await sandbox.getByLabel('Subscription name').fill('Journey sandbox');
    await sandbox.getByRole('button', { name: 'Subscribe in sandbox' }).click();
    await sandbox.locator('[data-status="approved"]').waitFor();
    await sandbox.getByRole('button', { name: 'Create credentials' }).click();
    const shownKey = await sandbox.locator('[data-secret-field="secret"]').textContent();
    expect(shownKey).toMatch(/^[0-9A-Za-z]{40}$/);
    await screenshot(page, 'portal-product');

    // Try It: PinGenerateWithParams, pre-filled with the example and the subscription's credentials.
    await sandbox.getByRole('link', { name: 'Try It (Sandbox)' }).click();
    await page.waitForURL('**/try-it?env=sandbox');
    expect(await page.locator('#tryit-headers').inputValue()).toContain(shownKey ?? 'missing');
    await page.locator('#tryit-method').selectOption('PinGenerateWithParams');
    await page.locator('#tryit-send').click();
    await expect.poll(() => page.locator('#tryit-out-status').textContent()).toContain('200');
    expect(await page.locator('#tryit-out-body').textContent()).toContain('"status": "Success"');
    await page.locator('#tryit-curl').click();
    expect(await page.locator('#tryit-curl-text').textContent()).toMatch(
      /^curl -X POST 'http:\/\/127\.0\.0\.1:\d+\/dcbsb\/PinGenerateWithParams'/,
    );
    await screenshot(page, 'portal-try-it');

    // The PIN arrives on the sandbox phone.
    await page.goto('/portal/sandbox/phone?msisdn=447700900123');
    const pin = (await page.locator('[data-pin]').first().textContent()) ?? '';
    expect(pin).toMatch(/^\d{6}$/);
    await screenshot(page, 'portal-sandbox-phone');

    // Try It SendBillWithPin with it.
    await page.goBack();
    await page.waitForURL('**/try-it?env=sandbox');
    await page.locator('#tryit-method').selectOption('SendBillWithPin');
    const body = await page.locator('#tryit-body').inputValue();
    expect(body).not.toContain('{{pinId}}');
    await page.locator('#tryit-body').fill(body.replace('"000000"', `"${pin}"`));
    await page.locator('#tryit-send').click();
    await expect.poll(() => page.locator('#tryit-out-body').textContent()).toContain('"txid"');
    expect(await page.locator('#tryit-out-body').textContent()).toContain('"status": "Success"');

    // The payment in Activity (timeline, ledger postings) and in the charts.
    await page.goto('/portal/activity');
    const row = page.locator('tbody tr', { hasText: '447700900123' });
    expect(await row.locator('.status').textContent()).toBe('succeeded');
    expect(await row.textContent()).toContain('1.50 GBP');
    await screenshot(page, 'portal-activity');
    await row.getByRole('link').click();
    await expect.poll(() => page.locator('ol.timeline').textContent()).toContain('succeeded');
    expect(await page.locator('table').textContent()).toContain('1.50 GBP');
    await screenshot(page, 'portal-payment');
    await page.goto('/portal/charts');
    expect(await page.locator('[data-kpi="count"] b').textContent()).toBe('1');
    expect(await page.locator('rect[data-outcome="succeeded"]').getAttribute('data-count')).toBe('1');
    await screenshot(page, 'portal-charts');

    // Request production: pending, Try It disabled and holding no key.
    await page.goto('/portal/products/carrier-billing');
    const production = page.locator('[data-env-section="production"]');
    await production.getByLabel('Subscription name').fill('Journey live');
    await production.getByRole('button', { name: 'Request production access' }).click();
    await production.locator('[data-status="pending"]').waitFor();
    const tryProd = await (
      await browser.newContext({ baseURL: base, storageState: await page.context().storageState() })
    ).newPage();
    await tryProd.goto('/portal/products/carrier-billing/try-it?env=production');
    expect(await tryProd.locator('#tryit-send').isDisabled()).toBe(true);
    expect(await tryProd.locator('#tryit-disabled-reason').textContent()).toContain(
      'Disabled until the operator approves',
    );
    expect(await tryProd.locator('#tryit-headers').inputValue()).toContain('{{secret}}');
    await tryProd.context().close();

    // The operator signs in to the console with TOTP and approves.
    const created = await runDatabaseCommand(
      ['operator', 'create-user', '--email', 'ops@journey.test', '--totp'],
      {
        database: t.database.handle,
        config: t.config,
      },
    );
    const password = /password: (\S+)/.exec(created.stdout)?.[1] ?? '';
    const secret = /secret=([A-Z2-7]+)/.exec(created.stdout)?.[1] ?? '';
    const ops = await newPage();
    await ops.page.goto('/console');
    await ops.page.waitForURL('**/console/signin?next=%2Fconsole');
    await ops.page.getByLabel('Email').fill('ops@journey.test');
    await ops.page.getByLabel('Password', { exact: true }).fill(password);
    await ops.page.getByRole('button', { name: 'Sign in' }).click();
    await ops.page.getByLabel('Authenticator code').waitFor();
    // The password step answers 401 second_factor_required, which reveals the code field.
    expect(ops.errors).toEqual([
      'Failed to load resource: the server responded with a status of 401 (Unauthorized)',
    ]);
    ops.errors.length = 0;
    await ops.page.getByLabel('Authenticator code').fill(totpCode(secret, new Date()));
    await ops.page.getByRole('button', { name: 'Sign in' }).click();
    await ops.page.waitForURL(`${base}/console`);
    await screenshot(ops.page, 'console-health');
    await ops.page.getByRole('link', { name: 'Access requests' }).first().click();
    const request = ops.page.locator('[data-access-id]', { hasText: 'Journey live' });
    await screenshot(ops.page, 'console-access-requests');
    await request.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => ops.page.locator('[data-access-id]', { hasText: 'Journey live' }).count())
      .toBe(0);

    // The merchant's page shows it approved without a reload (htmx polling), then production Try It.
    await production.locator('[data-status="approved"]').waitFor({ timeout: 15_000 });
    expect(await production.locator('.sub-status').textContent()).toContain('Approved');
    await page.reload();
    await production.getByRole('button', { name: 'Create credentials' }).click();
    const liveKey = (await production.locator('[data-secret-field="secret"]').textContent()) ?? '';
    expect(liveKey).toMatch(/^[0-9A-Za-z]{40}$/);
    await production.getByRole('link', { name: 'Try It (Production)' }).click();
    await page.waitForURL('**/try-it?env=production');
    expect(await page.locator('#tryit-send').isDisabled()).toBe(false);
    expect(await page.locator('#tryit-headers').inputValue()).toContain(liveKey);
    expect(await page.locator('#tryit-url').textContent()).toContain('/dcb/PinGenerateWithParams');
    await page.locator('#tryit-send').click();
    await expect.poll(() => page.locator('#tryit-out-status').textContent()).toMatch(/^\d{3} /);
    const liveStatus = (await page.locator('#tryit-out-status').textContent()) ?? '';
    expect(liveStatus).not.toMatch(/^401/);
    // Chromium logs any non-2xx fetch; a production carrier's business answer may be one.
    if (!/^2/.test(liveStatus))
      errors.splice(
        errors.findIndex((e) => e.startsWith('Failed to load resource')),
        1,
      );
    await screenshot(page, 'portal-try-it-production');

    expect(errors).toEqual([]);
    expect(ops.errors).toEqual([]);
  });
});
