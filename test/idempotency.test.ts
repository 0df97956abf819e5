import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimIdempotencyKey,
  pruneIdempotencyKeys,
  requestFingerprint,
} from '../src/core/idempotency/idempotency.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
let op: string;
beforeAll(async () => {
  t = await startTestApp();
  op = t.demo.operator.apiKey;
});
afterAll(async () => t.close());

const merchantCount = async () =>
  Number(
    (
      await t.database.handle.db
        .selectFrom('merchants')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('Idempotency-Key', () => {
  it('same key and same request replays the stored response, once executed', async () => {
    const before = await merchantCount();
    const first = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'create-1',
      body: { name: 'Once' },
    });
    const second = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'create-1',
      body: { name: 'Once' },
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.text).toBe(first.text);
    expect(await merchantCount()).toBe(before + 1);
  });

  it('concurrent retries with one key create exactly one object', async () => {
    const before = await merchantCount();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.request('POST', '/v1/merchants', { key: op, idempotencyKey: 'burst', body: { name: 'Burst' } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const created = new Set(results.filter((r) => r.status === 201).map((r) => r.body.merchant.id as string));
    expect(created.size).toBe(1);
    for (const r of results.filter((x) => x.status === 409))
      expect(r.body.code).toBe('idempotency_key_in_use');
    expect(await merchantCount()).toBe(before + 1);
  });

  it('same key with a different request is 422 and changes nothing', async () => {
    await t.request('POST', '/v1/merchants', { key: op, idempotencyKey: 'k-diff', body: { name: 'A' } });
    const before = await merchantCount();
    const res = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'k-diff',
      body: { name: 'B' },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('idempotency_key_reused');
    const otherRoute = await t.request('POST', `/v1/merchants/${t.demo.merchantId}/disable`, {
      key: op,
      idempotencyKey: 'k-diff',
    });
    expect(otherRoute.status).toBe(422);
    expect(await merchantCount()).toBe(before);
  });

  it('a key in use by a running request is 409', async () => {
    const fingerprint = requestFingerprint('POST', '/v1/merchants', {}, { name: 'Slow' });
    const claim = await claimIdempotencyKey(t.database.handle.db, {
      scope: 'operator',
      key: 'running',
      fingerprint,
      ttlHours: 24,
    });
    expect(claim.kind).toBe('claimed');
    const res = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'running',
      body: { name: 'Slow' },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('idempotency_key_in_use');
  });

  it('requests rejected before execution are not stored; failures after execution are replayed', async () => {
    const invalid = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'fix-me',
      body: { name: '' },
    });
    expect(invalid.status).toBe(400);
    const unauthenticated = await t.request('POST', '/v1/merchants', {
      idempotencyKey: 'fix-me',
      body: { name: 'x' },
    });
    expect(unauthenticated.status).toBe(401);
    const fixed = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'fix-me',
      body: { name: 'Fixed' },
    });
    expect(fixed.status).toBe(201);

    const missing = await t.request('POST', '/v1/merchants/mer_missing/disable', {
      key: op,
      idempotencyKey: 'nf',
    });
    expect(missing.status).toBe(404);
    const replay = await t.request('POST', '/v1/merchants/mer_missing/disable', {
      key: op,
      idempotencyKey: 'nf',
    });
    expect(replay.status).toBe(404);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.request_id).toBe(missing.body.request_id);
  });

  it('keys are scoped per merchant and environment', async () => {
    const a = await t.createMerchant();
    const b = await t.createMerchant();
    const body = { dialect: 'native' };
    const ra = await t.request('POST', '/v1/credentials', {
      key: a.sandboxKey,
      idempotencyKey: 'same',
      body,
    });
    const rb = await t.request('POST', '/v1/credentials', {
      key: b.sandboxKey,
      idempotencyKey: 'same',
      body,
    });
    const rp = await t.request('POST', '/v1/credentials', {
      key: a.productionKey,
      idempotencyKey: 'same',
      body,
    });
    expect([ra.status, rb.status, rp.status]).toEqual([201, 201, 201]);
    expect(new Set([ra.body.id, rb.body.id, rp.body.id]).size).toBe(3);
  });

  it('rejects malformed keys with 400', async () => {
    for (const key of ['x'.repeat(256), 'tab\there', 'naïve']) {
      const res = await t.request('POST', '/v1/merchants', {
        key: op,
        idempotencyKey: key,
        body: { name: 'k' },
      });
      expect(res.status, key).toBe(400);
      expect(res.body.code).toBe('invalid_idempotency_key');
    }
  });

  it('keys live at least 24 hours; expired ones are pruned and may be used afresh', async () => {
    const first = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'old',
      body: { name: 'Old' },
    });
    const row = await t.database.handle.db
      .selectFrom('idempotency_keys')
      .select(sql<boolean>`expires_at >= created_at + interval '24 hours'`.as('long_enough'))
      .where('key', '=', 'old')
      .executeTakeFirstOrThrow();
    expect(row.long_enough).toBe(true);
    await t.database.handle.db
      .updateTable('idempotency_keys')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('key', '=', 'old')
      .execute();
    expect(await pruneIdempotencyKeys(t.database.handle.db)).toBeGreaterThanOrEqual(1);
    const again = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'old',
      body: { name: 'Old' },
    });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body.merchant.id).not.toBe(first.body.merchant.id);
  });
});
