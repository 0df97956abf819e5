import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';

/** A merchant's checkout page (its own origin) that renders the SmartPay widget from `scriptUrl`. */
export function merchantPageServer(scriptUrl: () => string): Promise<Server> {
  const page = () => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>
<h1>Checkout</h1><div id="widget"></div><div id="selected"></div><div id="submit"></div><pre id="result"></pre>
<script src="${scriptUrl()}"></script>
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
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page()));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export function originOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function openCheckout(
  browser: Browser,
  server: Server,
  objectType: string,
  objectId: string,
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  await page.goto(`${originOf(server)}/?objectType=${objectType}&objectId=${objectId}`);
  return page;
}

export async function widgetResult(page: Page): Promise<Record<string, unknown>> {
  await page.waitForFunction(() => (document.getElementById('result')?.textContent ?? '') !== '');
  const text = (await page.textContent('#result')) ?? '{}';
  await page.evaluate(() => {
    const el = document.getElementById('result');
    if (el) el.textContent = '';
  });
  return JSON.parse(text) as Record<string, unknown>;
}

/** Types a card into the widget's iframe and saves it; completes a 3-D Secure challenge if one is shown. */
export async function storeCardInBrowser(
  browser: Browser,
  server: Server,
  objectType: string,
  objectId: string,
  number: string,
): Promise<Record<string, unknown>> {
  const page = await openCheckout(browser, server, objectType, objectId);
  const frame = page.frameLocator('iframe');
  await frame.locator('#number').fill(number);
  await frame.locator('#expiry').fill('12/40');
  await frame.locator('#cvc').fill('123');
  await page.click('#submit button');
  const challenge = frame.locator('#challenge-complete');
  const result = await Promise.race([
    widgetResult(page),
    challenge.waitFor({ state: 'visible' }).then(async () => {
      await challenge.click();
      return widgetResult(page);
    }),
  ]);
  await page.context().close();
  return result;
}
