import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

describe('product access', () => {
  it('sandbox access is approved at once; production waits for an operator', async () => {
    const m = await t.createMerchant();
    const sandbox = await t.request('POST', '/v1/access-requests', {
      key: m.sandboxKey,
      body: { product: 'carrier-billing', name: 'My shop' },
    });
    expect(sandbox.status).toBe(201);
    expect(sandbox.body).toMatchObject({ environment: 'sandbox', status: 'approved', name: 'My shop' });
    const production = await t.request('POST', '/v1/access-requests', {
      key: m.productionKey,
      body: { product: 'carrier-billing', name: 'My shop live' },
    });
    expect(production.body).toMatchObject({ environment: 'production', status: 'pending' });

    const pending = await t.request('GET', '/v1/access-requests?status=pending', {
      key: t.demo.operator.apiKey,
    });
    expect(pending.body.data.map((a: { id: string }) => a.id)).toContain(production.body.id);

    const approved = await t.request('POST', `/v1/access-requests/${production.body.id}/approve`, {
      key: t.demo.operator.apiKey,
      body: { reason: 'KYC done' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decision_reason: 'KYC done' });
    expect(approved.body.decided_by).toMatch(/^opk_/);
    const twice = await t.request('POST', `/v1/access-requests/${production.body.id}/reject`, {
      key: t.demo.operator.apiKey,
    });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('conflict');
  });

  it('merchants cannot decide their own requests; other merchants see 404', async () => {
    const m = await t.createMerchant();
    const other = await t.createMerchant();
    const request = await t.request('POST', '/v1/access-requests', {
      key: m.productionKey,
      body: { product: 'agreements', name: 'Agreements' },
    });
    const self = await t.request('POST', `/v1/access-requests/${request.body.id}/approve`, {
      key: m.productionKey,
    });
    expect(self.status).toBe(403);
    const peek = await t.request('GET', `/v1/access-requests/${request.body.id}`, {
      key: other.productionKey,
    });
    expect(peek.status).toBe(404);
    const sandboxPeek = await t.request('GET', `/v1/access-requests/${request.body.id}`, {
      key: m.sandboxKey,
    });
    expect(sandboxPeek.status).toBe(404);
    const rename = await t.request('PATCH', `/v1/access-requests/${request.body.id}`, {
      key: other.productionKey,
      body: { name: 'mine now' },
    });
    expect(rename.status).toBe(404);
  });

  it('one live request per product and environment; rejected ones may be asked again; names change', async () => {
    const m = await t.createMerchant();
    const body = { product: 'subscriptions', name: 'Subs' };
    const first = await t.request('POST', '/v1/access-requests', { key: m.productionKey, body });
    const duplicate = await t.request('POST', '/v1/access-requests', { key: m.productionKey, body });
    expect(duplicate.status).toBe(409);
    await t.request('POST', `/v1/access-requests/${first.body.id}/reject`, { key: t.demo.operator.apiKey });
    const again = await t.request('POST', '/v1/access-requests', { key: m.productionKey, body });
    expect(again.status).toBe(201);
    const renamed = await t.request('PATCH', `/v1/access-requests/${again.body.id}`, {
      key: m.productionKey,
      body: { name: 'Subscriptions (web)' },
    });
    expect(renamed.body.name).toBe('Subscriptions (web)');
    const bad = await t.request('POST', '/v1/access-requests', {
      key: m.productionKey,
      body: { product: 'lottery', name: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.param).toBe('/product');
  });

  it('the demo merchant has sandbox access to all four products', async () => {
    const res = await t.request('GET', '/v1/access-requests', { key: t.demo.native.apiKey });
    const products = res.body.data
      .map((a: { product: string; status: string }) => `${a.product}:${a.status}`)
      .sort();
    expect(products).toEqual([
      'agreements:approved',
      'bill-payment:approved',
      'carrier-billing:approved',
      'subscriptions:approved',
    ]);
  });
});
