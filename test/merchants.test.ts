import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

describe('merchants (operator API)', () => {
  it('creates a merchant with a native key per environment, shown once', async () => {
    const res = await t.request('POST', '/v1/merchants', {
      key: t.demo.operator.apiKey,
      body: { name: 'Acme' },
    });
    expect(res.status).toBe(201);
    expect(res.body.merchant).toMatchObject({ name: 'Acme', status: 'active', is_demo: false });
    expect(res.body.merchant.id).toMatch(/^mer_/);
    const envs = res.body.credentials.map((c: { environment: string }) => c.environment).sort();
    expect(envs).toEqual(['production', 'sandbox']);
    const sandbox = res.body.credentials.find((c: { environment: string }) => c.environment === 'sandbox');
    expect(sandbox.secret).toMatch(/^pl_test_[0-9A-Za-z]{40}$/);

    const list = await t.request('GET', `/v1/merchants/${res.body.merchant.id}/credentials`, {
      key: t.demo.operator.apiKey,
    });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    expect(list.text).not.toContain(sandbox.secret);
    expect(list.body.data[0].secret).toBeUndefined();
  });

  it('gets, lists with cursor pagination, and filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.createMerchant(`Paged ${i}`)).id);
    const first = await t.request('GET', '/v1/merchants?limit=2', { key: t.demo.operator.apiKey });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    expect(first.body.data[0].id).toBe(ids[4]);
    const second = await t.request('GET', `/v1/merchants?limit=2&starting_after=${first.body.next_cursor}`, {
      key: t.demo.operator.apiKey,
    });
    expect(second.body.data.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1]]);

    const one = await t.request('GET', `/v1/merchants/${ids[0]}`, { key: t.demo.operator.apiKey });
    expect(one.body).toMatchObject({ id: ids[0], name: 'Paged 0' });
    const missing = await t.request('GET', '/v1/merchants/mer_nope', { key: t.demo.operator.apiKey });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const tooMany = await t.request('GET', '/v1/merchants?limit=1000', { key: t.demo.operator.apiKey });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.param).toBe('querystring:/limit');
  });

  it('disabling a merchant stops its keys at once; enabling restores them', async () => {
    const m = await t.createMerchant('Disable me');
    expect((await t.request('GET', '/v1/merchant', { key: m.sandboxKey })).status).toBe(200);
    const disabled = await t.request('POST', `/v1/merchants/${m.id}/disable`, {
      key: t.demo.operator.apiKey,
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    const refused = await t.request('GET', '/v1/merchant', { key: m.sandboxKey });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('merchant_disabled');
    const filtered = await t.request('GET', '/v1/merchants?status=disabled', { key: t.demo.operator.apiKey });
    expect(filtered.body.data.map((x: { id: string }) => x.id)).toContain(m.id);
    await t.request('POST', `/v1/merchants/${m.id}/enable`, { key: t.demo.operator.apiKey });
    expect((await t.request('GET', '/v1/merchant', { key: m.sandboxKey })).status).toBe(200);
  });

  it('merchant keys cannot use operator endpoints, and need no merchant id to see themselves', async () => {
    const m = await t.createMerchant('Self');
    const me = await t.request('GET', '/v1/merchant', { key: m.productionKey });
    expect(me.body).toMatchObject({ merchant: { id: m.id }, environment: 'production' });
    const forbidden = await t.request('GET', '/v1/merchants', { key: m.sandboxKey });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('forbidden');
    const create = await t.request('POST', '/v1/merchants', { key: m.sandboxKey, body: { name: 'x' } });
    expect(create.status).toBe(403);
  });
});
