import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateSecret } from '../src/core/credentials/credentials.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

describe('credentials', () => {
  it('are generated with high entropy, shown once and stored only as a hash', async () => {
    const m = await t.createMerchant();
    const res = await t.request('POST', '/v1/credentials', {
      key: m.sandboxKey,
      body: { dialect: 'carrier_billing', name: 'shop' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      environment: 'sandbox',
      dialect: 'carrier_billing',
      name: 'shop',
      status: 'active',
    });
    expect(res.body.secret).toMatch(/^[0-9A-Za-z]{40}$/);
    expect(res.body.secret_last4).toBe(res.body.secret.slice(-4));

    const rows = await t.database.handle.db.selectFrom('credentials').selectAll().execute();
    const stored = JSON.stringify(rows.map((r) => ({ ...r, secret_hash: r.secret_hash.toString('hex') })));
    expect(stored).not.toContain(res.body.secret);
    expect(stored).not.toContain(m.sandboxKey);

    const list = await t.request('GET', '/v1/credentials', { key: m.sandboxKey });
    expect(list.text).not.toContain(res.body.secret);
    expect(list.body.data.every((c: { environment: string }) => c.environment === 'sandbox')).toBe(true);
  });

  it('rotate with overlap: both secrets work until the old one expires', async () => {
    const m = await t.createMerchant();
    const created = await t.request('POST', '/v1/credentials', {
      key: m.sandboxKey,
      body: { dialect: 'native' },
    });
    const oldKey = created.body.secret as string;
    const rotated = await t.request('POST', `/v1/credentials/${created.body.id}/rotate`, {
      key: m.sandboxKey,
      body: { overlap_seconds: 3600 },
    });
    expect(rotated.status).toBe(201);
    const newKey = rotated.body.secret as string;
    expect(newKey).not.toBe(oldKey);
    expect((await t.request('GET', '/v1/merchant', { key: oldKey })).status).toBe(200);
    expect((await t.request('GET', '/v1/merchant', { key: newKey })).status).toBe(200);
    const old = await t.request('GET', `/v1/credentials/${created.body.id}`, { key: newKey });
    expect(old.body.status).toBe('expiring');
    expect(old.body.replaced_by).toBe(rotated.body.id);
    const again = await t.request('POST', `/v1/credentials/${created.body.id}/rotate`, { key: m.sandboxKey });
    expect(again.status).toBe(409);

    // With no overlap the old secret stops at once.
    const instant = await t.request('POST', `/v1/credentials/${rotated.body.id}/rotate`, {
      key: m.sandboxKey,
      body: { overlap_seconds: 0 },
    });
    expect(instant.status).toBe(201);
    expect((await t.request('GET', '/v1/merchant', { key: newKey })).status).toBe(401);
    expect((await t.request('GET', '/v1/merchant', { key: instant.body.secret })).status).toBe(200);
  });

  it('revoked credentials stop working at once', async () => {
    const m = await t.createMerchant();
    const created = await t.request('POST', '/v1/credentials', {
      key: m.sandboxKey,
      body: { dialect: 'native' },
    });
    const revoked = await t.request('POST', `/v1/credentials/${created.body.id}/revoke`, {
      key: m.sandboxKey,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const res = await t.request('GET', '/v1/merchant', { key: created.body.secret });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthenticated');
  });

  it("another merchant's or environment's credential is 404, never 403 and never the object", async () => {
    const a = await t.createMerchant('A');
    const b = await t.createMerchant('B');
    const aCred = await t.request('POST', '/v1/credentials', {
      key: a.sandboxKey,
      body: { dialect: 'native' },
    });
    for (const [key, path] of [
      [b.sandboxKey, `/v1/credentials/${aCred.body.id}`],
      [a.productionKey, `/v1/credentials/${aCred.body.id}`],
    ] as const) {
      const res = await t.request('GET', path, { key });
      expect(res.status).toBe(404);
      expect(res.text).not.toContain(aCred.body.public_id);
    }
    const revoke = await t.request('POST', `/v1/credentials/${aCred.body.id}/revoke`, { key: b.sandboxKey });
    expect(revoke.status).toBe(404);
    const stillWorks = await t.request('GET', '/v1/merchant', { key: aCred.body.secret });
    expect(stillWorks.status).toBe(200);
    const productionList = await t.request('GET', '/v1/credentials', { key: a.productionKey });
    expect(productionList.body.data.map((c: { id: string }) => c.id)).not.toContain(aCred.body.id);
  });

  it('operators create, rotate and revoke credentials for any merchant and environment', async () => {
    const m = await t.createMerchant();
    const op = t.demo.operator.apiKey;
    const created = await t.request('POST', `/v1/merchants/${m.id}/credentials`, {
      key: op,
      body: { environment: 'production', dialect: 'agreements' },
    });
    expect(created.status).toBe(201);
    expect(created.body.environment).toBe('production');
    const rotated = await t.request('POST', `/v1/merchants/${m.id}/credentials/${created.body.id}/rotate`, {
      key: op,
    });
    expect(rotated.status).toBe(201);
    const revoked = await t.request('POST', `/v1/merchants/${m.id}/credentials/${rotated.body.id}/revoke`, {
      key: op,
    });
    expect(revoked.body.status).toBe('revoked');
    const wrongMerchant = await t.request(
      'POST',
      `/v1/merchants/${t.demo.merchantId}/credentials/${created.body.id}/revoke`,
      {
        key: op,
      },
    );
    expect(wrongMerchant.status).toBe(404);
    const bad = await t.request('POST', `/v1/merchants/${m.id}/credentials`, {
      key: op,
      body: { environment: 'staging', dialect: 'native' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.param).toBe('/environment');
  });

  it("a product's credential works only while that product's access here is approved", async () => {
    const m = await t.createMerchant();
    const op = t.demo.operator.apiKey;
    const cred = await t.request('POST', '/v1/credentials', {
      key: m.productionKey,
      body: { dialect: 'bill_payment' },
    });
    const db = t.database.handle.db;
    expect((await authenticateSecret(db, 'bill_payment', cred.body.secret))?.accessApproved).toBe(false);
    const access = await t.request('POST', '/v1/access-requests', {
      key: m.productionKey,
      body: { product: 'bill-payment', name: 'Bills' },
    });
    expect(access.body.status).toBe('pending');
    expect((await authenticateSecret(db, 'bill_payment', cred.body.secret))?.accessApproved).toBe(false);
    await t.request('POST', `/v1/access-requests/${access.body.id}/approve`, { key: op });
    const approved = await authenticateSecret(db, 'bill_payment', cred.body.secret);
    expect(approved).toMatchObject({ merchantId: m.id, environment: 'production', accessApproved: true });
    await t.request('POST', `/v1/access-requests/${access.body.id}/revoke`, { key: op });
    expect((await authenticateSecret(db, 'bill_payment', cred.body.secret))?.accessApproved).toBe(false);
    // A credential of one dialect is not a credential of another.
    expect(await authenticateSecret(db, 'carrier_billing', cred.body.secret)).toBeUndefined();
  });
});
