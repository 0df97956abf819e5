import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productPortalEntries, type ProductPortalEntry, type TryItMethod } from '../../src/products/index.js';
import { startTestApp, type ApiResponse, type TestApp } from '../harness.js';
import { asUser, signUp, verifyLatestMail, type Session } from './helpers.js';

let t: TestApp;
let owner: Session & { merchantId: string };

beforeAll(async () => {
  t = await startTestApp();
  owner = await signUp(t, 'owner@products.test', 'Products & Co');
  await verifyLatestMail(t, owner);
});
afterAll(async () => {
  await t.close();
});

type Values = Record<string, string | number>;

/** The browser's placeholder filling: a whole `{{name}}` keeps the value's type. */
function fill(value: unknown, values: Values): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole?.[1] && values[whole[1]] !== undefined) return values[whole[1]];
    return value.replace(/\{\{(\w+)\}\}/g, (match, name: string) => {
      if (values[name] === undefined) throw new Error(`no value for ${match}`);
      return String(values[name]);
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  }
  return value;
}

function entryOf(product: string): ProductPortalEntry {
  const entry = productPortalEntries().find((e) => e.product === product);
  if (!entry) throw new Error(`no portal entry for ${product}`);
  return entry;
}

/** Sends one Try It method as the page does (form-encoded under a form content type) and learns from it. */
async function tryIt(entry: ProductPortalEntry, name: string, values: Values): Promise<ApiResponse> {
  const method = entry.tryIt.find((m: TryItMethod) => m.name === name);
  if (!method) throw new Error(`${entry.product} has no Try It method ${name}`);
  const url = `${method.basePath?.sandbox ?? entry.basePath.sandbox}${String(fill(method.path, values))}`;
  const headers = fill(method.headers, values) as Record<string, string>;
  const body = method.exampleBody === undefined ? undefined : fill(method.exampleBody, values);
  const form = /x-www-form-urlencoded/.test(headers['content-type'] ?? '');
  const res = await t.request(method.httpMethod, url, {
    headers,
    ...(body === undefined
      ? {}
      : form
        ? {
            payload: new URLSearchParams(
              Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
            ).toString(),
          }
        : { payload: JSON.stringify(body) }),
  });
  if (res.status < 300 && res.text) {
    for (const [placeholder, field] of Object.entries(method.learn ?? {})) {
      const v = (res.body as Record<string, unknown>)[field];
      if (typeof v === 'string' || typeof v === 'number') values[placeholder] = v;
    }
  }
  return res;
}

/** Subscribes in sandbox through the portal API and issues the credentials (shown once). */
async function subscribe(product: string, name: string) {
  const sub = await t.request('POST', '/v1/access-requests', {
    headers: asUser(owner),
    body: { product, name },
  });
  expect(sub.status).toBe(201);
  expect(sub.body).toMatchObject({ status: 'approved', environment: 'sandbox', product });
  const issued = await t.request('POST', `/v1/subscriptions/${sub.body.id}/credentials`, {
    headers: asUser(owner),
  });
  expect(issued.status, issued.text).toBe(201);
  const credential = issued.body.credential as Record<string, string>;
  const fields = issued.body.fields as Values;
  // Every labelled field of the product's shape is in the answer.
  for (const f of entryOf(product).credentialFields) {
    expect({ ...credential, ...fields }[f.key], `${product} ${f.key}`).toBeDefined();
  }
  const values: Values = { ...credential, ...(issued.body.example_values as Values), ...fields };
  return { credential, fields, values };
}

describe('the three newer products in the portal', () => {
  it('lists agreements, bill payment and subscriptions in Products with their README and API reference', async () => {
    const list = await t.request('GET', '/portal/products', { headers: { cookie: owner.cookie } });
    expect(list.status).toBe(200);
    for (const [product, title, readmeText, operation] of [
      [
        'bill-payment',
        'Bill payment',
        'Clickatell Payd dialect',
        '/apiman-gateway/PaydServices/transact/4.0',
      ],
      ['subscriptions', 'Subscriptions', 'SmartPay Subscription Module dialect', '/smartpay/plans'],
      ['agreements', 'Agreements', 'MobilePay Subscriptions', '/v1/agreements/providers'],
    ] as const) {
      expect(list.text).toContain(`/portal/products/${product}`);
      expect(list.text).toContain(title);
      const page = await t.request('GET', `/portal/products/${product}`, {
        headers: { cookie: owner.cookie },
      });
      expect(page.status, product).toBe(200);
      expect(page.text, product).toContain(readmeText);
      expect(page.text, product).toContain(operation);
      const tryPage = await t.request('GET', `/portal/products/${product}/try-it?env=sandbox`, {
        headers: { cookie: owner.cookie },
      });
      expect(tryPage.status, product).toBe(200);
      expect(tryPage.text, product).toContain(`Subscribe to ${title} in sandbox first`);
    }
  });

  it('bill payment: client id/secret and API key; Try It takes a Keycloak token, validates an account and pays', async () => {
    const entry = entryOf('bill-payment');
    const { credential, fields, values } = await subscribe('bill-payment', 'My bank');
    expect(credential).toMatchObject({ dialect: 'bill_payment', environment: 'sandbox' });
    expect(fields.clientId).toEqual(expect.any(Number));
    expect(fields.clientSecret).toMatch(/^[0-9A-Za-z]{40}$/);
    expect(fields.apiKey).toBe(credential.secret);
    expect(fields.fundingSourceId).toEqual(expect.any(Number));

    const token = await tryIt(entry, 'Security Service (token)', values);
    expect(token.status, token.text).toBe(200);
    expect(values.accessToken).toBe(token.body.access_token);
    const lookup = await tryIt(entry, 'Product Lookup', values);
    expect(lookup.status, lookup.text).toBe(200);
    expect(lookup.text).toContain('Enugu Electricity Prepaid');
    const validate = await tryIt(entry, 'Customer Account Validation', values);
    expect(validate.status, validate.text).toBe(200);
    expect(validate.body).toMatchObject({ responseCode: '0000', status: 'online' });
    const terms = await tryIt(entry, 'Financial Terms Lookup', values);
    expect(terms.status, terms.text).toBe(200);
    const pay = await tryIt(entry, 'Reserve and Transact', values);
    expect(pay.status, pay.text).toBe(200);
    expect(pay.body).toMatchObject({ responseCode: '0000' });
    expect(values.raasTxnRef).toMatch(/^[a-z0-9]{24}$/);
    const found = await tryIt(entry, 'Transaction Lookup', values);
    expect(found.status, found.text).toBe(200);
    expect(found.text).toContain(String(values.raasTxnRef));
  });

  it('subscriptions: merchant key, authentication key and widget script URL; Try It creates a plan and a subscription', async () => {
    const entry = entryOf('subscriptions');
    const { credential, fields, values } = await subscribe('subscriptions', 'My club');
    expect(credential).toMatchObject({ dialect: 'subscriptions', environment: 'sandbox' });
    expect(fields.merchantKey).toBe(credential.secret);
    expect(fields.authenticationKey).toBe(credential.password);
    expect(fields.widgetScriptUrl).toMatch(new RegExp(`/smartpay/widget/${credential.username}/sdk\\.js$`));
    const script = await t.request('GET', new URL(String(fields.widgetScriptUrl)).pathname);
    expect(script.status).toBe(200);

    const plan = await tryIt(entry, 'Create plan', values);
    expect(plan.status, plan.text).toBe(201);
    expect(plan.body).toMatchObject({
      name: 'Premium monthly',
      recurrentAmount: 9.99,
      currencyIsoCode: 'EUR',
    });
    expect((await tryIt(entry, 'List plans', values)).body.count).toBe(1);
    const sub = await tryIt(entry, 'Create subscription', values);
    expect(sub.status, sub.text).toBe(201);
    expect(sub.body).toMatchObject({ planId: plan.body.id, status: 'created' });
    const got = await tryIt(entry, 'Get subscription', values);
    expect(got.body.id).toBe(sub.body.id);
    expect((await tryIt(entry, 'Cancel subscription', values)).status).toBe(204);
  });

  it('agreements: application client, OAuth client and provider; Try It takes an OIDC token, creates an agreement, the payer accepts, the one-off is captured', async () => {
    const entry = entryOf('agreements');
    const { credential, fields, values } = await subscribe('agreements', 'My streaming');
    expect(credential).toMatchObject({ dialect: 'agreements', environment: 'sandbox' });
    expect(fields.applicationClientId).toBe(credential.public_id);
    expect(fields.applicationClientSecret).toBe(credential.secret);
    expect(fields.clientId).toMatch(/^sb-/);
    expect(typeof fields.clientSecret).toBe('string');
    expect(typeof fields.refreshToken).toBe('string');

    const token = await tryIt(entry, 'Token (refresh_token grant)', values);
    expect(token.status, token.text).toBe(200);
    const me = await tryIt(entry, 'GET merchants/me', values);
    expect(me.status, me.text).toBe(200);
    expect(me.text).toContain(String(fields.providerId));
    const created = await tryIt(entry, 'Create agreement', values);
    expect(created.status, created.text).toBe(201);
    expect(values.agreementId).toBe(created.body.id);
    expect(values.oneOffId).toBe(created.body.one_off_payment_id);
    const link = (created.body.links as { rel: string; href: string }[]).find((l) => l.rel === 'mobile-pay');
    expect(link?.href).toBeDefined();
    expect((await tryIt(entry, 'Get agreement', values)).body.status).toBe('Pending');

    // The payer accepts, through the documented sandbox action with a native sandbox key.
    const key = await t.request('POST', '/v1/credentials', {
      headers: asUser(owner),
      body: { dialect: 'native', name: 'sandbox actions' },
    });
    expect(key.status, key.text).toBe(201);
    const accepted = await t.request('POST', `/v1/sandbox/agreements/${String(values.agreementId)}/accept`, {
      key: key.body.secret as string,
      body: {},
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect((await tryIt(entry, 'Get agreement', values)).body.status).toBe('Active');
    expect((await tryIt(entry, 'Get one-off payment', values)).body.status).toBe('Reserved');
    const capture = await tryIt(entry, 'Capture one-off payment', values);
    expect(capture.status, capture.text).toBe(204);
    expect((await tryIt(entry, 'Get one-off payment', values)).body.status).toBe('Captured');
    const another = await tryIt(entry, 'Request one-off payment', values);
    expect(another.status, another.text).toBe(202);
    expect(values.oneOffId).toBe(another.body.id);
  });

  it('lists the agreements payer-simulation actions in the sandbox tools', async () => {
    const page = await t.request('GET', '/portal/sandbox', { headers: { cookie: owner.cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Accept or reject an agreement');
    expect(page.text).toContain('Accept or reject a one-off payment');
    expect(page.text).not.toContain('No product offers payer simulation yet');
  });
});
