import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { payd, tokenFor } from './helpers.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
});

const product = (overrides: Record<string, unknown> = {}) => ({
  environment: 'sandbox',
  name: 'Data 1GB',
  short_description: 'Data',
  product_type_id: 5,
  biller_product_code: 'DATA',
  currency: 'ZAR',
  pricing: { type: 'single', amount: 9900 },
  fee: { fixed_amount: 100, percentage: '1.25' },
  client_share: { percentage: '2' },
  identifier: { kind: 'msisdn' },
  ...overrides,
});

describe('bill payment native API: the operator catalogue', () => {
  it('creates and replaces a product; refuses merchants, unknown biller products, currencies and bad patterns', async () => {
    const op = t.demo.operator.apiKey;
    const created = await t.request('PUT', '/v1/bill-payment/products/200', { key: op, body: product() });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      product_id: 200,
      product_type_name: 'Data',
      pricing: { type: 'single', amount: 9900 },
      fee: { fixed_amount: 100, percentage: '1.25' },
      client_share: { fixed_amount: 0, percentage: '2' },
      identifier: { kind: 'msisdn', pattern: '^[0-9]{7,15}$' },
      active: true,
    });
    const replaced = await t.request('PUT', '/v1/bill-payment/products/200', {
      key: op,
      body: product({
        pricing: { type: 'range', minimum_amount: 1000, maximum_amount: 5000, increment: 500 },
        active: false,
      }),
    });
    expect(replaced.body).toMatchObject({
      pricing: { type: 'range', minimumAmount: 1000, maximumAmount: 5000, increment: 500 },
      active: false,
    });
    const list = await t.request('GET', '/v1/bill-payment/products?environment=sandbox', { key: op });
    expect((list.body.data as Array<{ product_id: number }>).map((p) => p.product_id)).toEqual([
      100, 101, 102, 103, 200,
    ]);

    expect(
      (
        await t.request('PUT', '/v1/bill-payment/products/201', {
          key: t.demo.native.apiKey,
          body: product(),
        })
      ).status,
    ).toBe(403);
    for (const [change, field] of [
      [{ biller_product_code: 'GAS' }, '/biller_product_code'],
      [{ currency: 'USD' }, '/currency'],
      [{ biller_connector_id: 'no-such-biller' }, '/biller_connector_id'],
      [{ identifier: { kind: 'meter', pattern: '([' } }, '/identifier/pattern'],
      [
        { pricing: { type: 'range', minimum_amount: 10, maximum_amount: 5, increment: 1 } },
        '/pricing/minimum_amount',
      ],
      [{ fee: { percentage: '101' } }, '/fee/percentage'],
    ] as const) {
      const res = await t.request('PUT', '/v1/bill-payment/products/201', { key: op, body: product(change) });
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(JSON.stringify(res.body)).toContain(field.split('/').pop());
    }
    expect(
      (await t.request('PUT', '/v1/bill-payment/products/10000', { key: op, body: product() })).status,
    ).toBe(400);
  });
});

describe('bill payment native API: clients and funding sources', () => {
  it('creates a client whose credentials work at once; products are enabled per client by the operator', async () => {
    const created = await t.request('POST', '/v1/bill-payment/clients', {
      key: t.demo.native.apiKey,
      body: { name: 'Wallet' },
    });
    expect(created.status).toBe(201);
    const clientId = created.body.client_id as number;
    expect(clientId).toBeGreaterThanOrEqual(1000);
    expect(created.body).toMatchObject({
      environment: 'sandbox',
      realm: 'SANDBOX-API',
      signature_required: false,
    });
    const api = payd(
      t,
      clientId,
      await tokenFor(t, clientId, created.body.client_secret as string),
      created.body.api_key as string,
    );
    // Nothing is enabled yet.
    expect((await api.get('/productLookup/2.0', { clientId })).status).toBe(204);
    const enable = (productId: number, enabled: boolean, key = t.demo.operator.apiKey) =>
      t.request('PUT', `/v1/bill-payment/clients/${clientId}/products/${productId}`, {
        key,
        body: { enabled },
      });
    expect((await enable(101, true, t.demo.native.apiKey)).status).toBe(403);
    expect((await enable(101, true)).status).toBe(200);
    expect((await enable(999, true)).status).toBe(404);
    const lookup = await api.get('/productLookup/2.0', { clientId });
    expect(lookup.body.products).toEqual([
      expect.objectContaining({
        publicProduct: expect.objectContaining({ id: 101, productTypeName: 'Airtime' }),
      }),
    ]);
    expect((await enable(101, false)).status).toBe(200);
    expect((await api.get('/productLookup/2.0', { clientId })).status).toBe(204);
    expect(
      (
        await t.request('PUT', '/v1/bill-payment/clients/99999/products/101', {
          key: t.demo.operator.apiKey,
          body: { enabled: true },
        })
      ).status,
    ).toBe(404);
  });

  it('adds funding sources; refuses unknown connectors, private result URLs, and other merchants', async () => {
    const key = t.demo.native.apiKey;
    const ok = await t.request('POST', '/v1/bill-payment/clients/111/funding-sources', {
      key,
      body: { name: 'Current account', result_url: 'https://bank.example/transact-result' },
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      connector_id: 'funding-source-simulator',
      webhook_endpoint_id: expect.stringMatching(/^we_/),
    });
    const unknown = await t.request('POST', '/v1/bill-payment/clients/111/funding-sources', {
      key,
      body: { name: 'X', connector_id: 'no-such-bank' },
    });
    expect(unknown.status).toBe(400);
    const privateUrl = await t.request('POST', '/v1/bill-payment/clients/111/funding-sources', {
      key,
      body: { name: 'X', result_url: 'http://127.0.0.1:9/result' },
    });
    expect(privateUrl.status).toBe(400);
    const other = await t.createMerchant('Other');
    const foreign = await t.request('POST', '/v1/bill-payment/clients/111/funding-sources', {
      key: other.sandboxKey,
      body: { name: 'X' },
    });
    expect(foreign.status).toBe(404);
    const clients = await t.request('GET', '/v1/bill-payment/clients', { key });
    expect(clients.body.data).toContainEqual(
      expect.objectContaining({
        client_id: 111,
        funding_sources: expect.arrayContaining([expect.objectContaining({ name: 'Current account' })]),
      }),
    );
    expect((await t.request('GET', '/v1/bill-payment/clients', { key: other.sandboxKey })).body.data).toEqual(
      [],
    );
  });

  it('keeps production and sandbox apart: a production client gets a token only in PROD-API', async () => {
    const merchant = await t.createMerchant('Live bank');
    const created = await t.request('POST', '/v1/bill-payment/clients', {
      key: merchant.productionKey,
      body: { name: 'Live bank' },
    });
    expect(created.status).toBe(201);
    const form = {
      client_id: String(created.body.client_id),
      client_secret: created.body.client_secret as string,
      grant_type: 'client_credentials',
    };
    const sandbox = await t.request('POST', '/auth/realms/SANDBOX-API/protocol/openid-connect/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    expect(sandbox.status).toBe(400);
    const prod = await t.request('POST', '/auth/realms/PROD-API/protocol/openid-connect/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    expect(prod.status).toBe(200);
    expect(created.body.token_url).toContain('/auth/realms/PROD-API/');
  });
});
