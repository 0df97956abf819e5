import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDatabaseCommand } from '../../src/commands.js';
import { loadConfig } from '../../src/config.js';
import { Secret } from '../../src/core/secrets/secrets.js';
import { Vault } from '../../src/core/vault/vault.js';
import { startTestApp, type TestApp } from '../harness.js';
import { planBody, sp, storeCard, subscriptionBody, widgetPost, widgetSession } from './helpers.js';

let t: TestApp;
let call: ReturnType<typeof sp>;
let subscriptionId: string;

beforeAll(async () => {
  t = await startTestApp();
  call = sp(t);
  const planId = (await call('POST', '/plans', { body: planBody() })).body.id as string;
  subscriptionId = (
    await call('POST', '/subscriptions', { body: subscriptionBody(planId, { customerAccountId: 'vault-1' }) })
  ).body.id;
});
afterAll(async () => t.close());

describe('card vault', () => {
  it('keeps only brand, first six, last four and expiry readable; the number is AES-GCM ciphertext', async () => {
    expect((await storeCard(t, 'subscription', subscriptionId, '4242424242424242')).status).toBe(200);
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM vault_cards`.execute(
      t.database.handle.db,
    );
    expect(rows).toHaveLength(1);
    const card = rows[0] ?? {};
    expect(card).toMatchObject({
      brand: 'visa',
      first6: '424242',
      last4: '4242',
      exp_month: 12,
      exp_year: 2040,
    });
    const dump = JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
    expect(dump).not.toContain('4242424242424242');
    expect(Buffer.from(card.ciphertext as Buffer).toString('latin1')).not.toContain('4242424242424242');
    const { rows: keys } = await sql<{
      wrapped_key: Buffer;
    }>`SELECT wrapped_key FROM vault_data_keys`.execute(t.database.handle.db);
    expect(keys).toHaveLength(1);
  });

  it('recognises the same card by its keyed fingerprint and never stores the CVC', async () => {
    await storeCard(t, 'subscription', subscriptionId, '4242 4242 4242 4242', { cvc: '987' });
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM vault_cards`.execute(
      t.database.handle.db,
    );
    expect(Number(rows[0]?.n)).toBe(1);
    const everything = await sql<Record<string, unknown>>`SELECT * FROM vault_cards`.execute(
      t.database.handle.db,
    );
    expect(JSON.stringify(everything.rows)).not.toContain('987');
  });

  it('audits every read and keeps reading through a key rotation', async () => {
    const vault = new Vault(t.services.keys);
    const scope = { merchantId: t.demo.merchantId, environment: 'sandbox' as const };
    const { rows } = await sql<{ id: string }>`SELECT id FROM vault_cards`.execute(t.database.handle.db);
    const cardId = rows[0]?.id ?? '';
    const reader = { actorId: 'test', purpose: 'unit-test', requestId: 'req_test' };
    expect(await vault.readPan(t.database.handle.db, scope, cardId, reader)).toBe('4242424242424242');
    const rotated = await runDatabaseCommand(['vault', 'rotate-key'], {
      database: t.database.handle,
      config: t.config,
    });
    expect(rotated.exitCode).toBe(0);
    expect(rotated.stdout).toMatch(/from key version 1 to 2 \(1 re-wrapped\)/);
    const { rows: keys } = await sql<{
      kek_version: number;
    }>`SELECT kek_version FROM vault_data_keys`.execute(t.database.handle.db);
    expect(keys.map((k) => k.kek_version)).toEqual([2]);
    expect(await vault.readPan(t.database.handle.db, scope, cardId, reader)).toBe('4242424242424242');
    const { rows: audits } = await sql<{ action: string; target_id: string }>`
      SELECT action, target_id FROM audit_log WHERE action LIKE 'vault.read%'`.execute(t.database.handle.db);
    expect(audits).toEqual([
      { action: 'vault.read:unit-test', target_id: cardId },
      { action: 'vault.read:unit-test', target_id: cardId },
    ]);
  });
});

describe('vault master key from configuration', () => {
  it('wraps data keys under PAYLOOM_VAULT_MASTER_KEY when set; another key cannot open them', async () => {
    expect(() => loadConfig({ PAYLOOM_VAULT_MASTER_KEY: 'too-short' })).toThrow(/PAYLOOM_VAULT_MASTER_KEY/);
    const master = loadConfig({ PAYLOOM_VAULT_MASTER_KEY: 'k'.repeat(40) }).vaultMasterKey;
    expect(master).toBeInstanceOf(Secret);
    const merchant = await t.createMerchant('Vault key shop');
    const scope = { merchantId: merchant.id, environment: 'production' as const };
    const db = t.database.handle.db;
    const configured = new Vault(t.services.keys, master);
    const card = await configured.storeCard(db, scope, {
      customerAccountId: 'c1',
      pan: '5555555555554444',
      brand: 'mastercard',
      expMonth: 1,
      expYear: 2040,
      connectorToken: 'simtok_mastercard_4444_approve',
    });
    const reader = { actorId: 'test', purpose: 'unit-test', requestId: 'req_test' };
    expect(await configured.readPan(db, scope, card.id, reader)).toBe('5555555555554444');
    await expect(new Vault(t.services.keys).readPan(db, scope, card.id, reader)).rejects.toThrow();
  });
});

describe('widget bad input', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a non-Luhn number', { number: '4242424242424241' }, 'number'],
    ['a number of letters', { number: 'abcd' }, 'number'],
    ['an unknown brand', { number: '6011111111111117' }, 'number'],
    ['an expired card', { expiryMonth: 1, expiryYear: 2020 }, 'expiryYear'],
    ['month 13', { expiryMonth: 13 }, 'expiryMonth'],
    ['a two-digit CVC', { cvc: '12' }, 'cvc'],
    ['a CVC of letters', { cvc: 'abc' }, 'cvc'],
  ];
  for (const [name, change, field] of cases) {
    it(`refuses ${name} with ERROR_INVALID_INPUT naming ${field}; nothing stored`, async () => {
      const planId = (await call('POST', '/plans', { body: planBody() })).body.id as string;
      const id = (
        await call('POST', '/subscriptions', {
          body: subscriptionBody(planId, { customerAccountId: `bad-${field}` }),
        })
      ).body.id as string;
      const { session, base } = await widgetSession(t, 'subscription', id);
      const before = await sql<{ n: string }>`SELECT count(*) AS n FROM vault_cards`.execute(
        t.database.handle.db,
      );
      const response = await widgetPost(t, base, '/cards', {
        session,
        number: '4242424242424242',
        expiryMonth: 12,
        expiryYear: 2040,
        cvc: '123',
        ...change,
      });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'ERROR_INVALID_INPUT', field });
      const after = await sql<{ n: string }>`SELECT count(*) AS n FROM vault_cards`.execute(
        t.database.handle.db,
      );
      expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
      expect((await call('GET', `/subscriptions/${id}`)).body.status).toBe('created');
    });
  }

  it('refuses card data from another origin, a forged session and an unknown widget key', async () => {
    const { session, base } = await widgetSession(t, 'subscription', subscriptionId);
    const card = { number: '4242424242424242', expiryMonth: 12, expiryYear: 2040, cvc: '123' };
    const crossSite = await t.request('POST', `${base}/cards`, {
      body: { session, ...card },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.code).toBe('ERR_CONFIG');
    const forged = await widgetPost(t, base, '/cards', {
      session: `${session.split('.')[0] ?? ''}.AAAA`,
      ...card,
    });
    expect(forged.status).toBe(403);
    const unknown = await widgetPost(t, '/smartpay/widget/sp_nobody', '/cards', { session, ...card });
    expect(unknown.status).toBe(404);
    const frame = await t.request(
      'GET',
      `${base}/frame?objectType=subscription&objectId=${subscriptionId}&parentOrigin=https%3A%2F%2Fevil.example`,
    );
    expect(frame.status).toBe(403);
    const config = await t.request('GET', `${base}/config`, { headers: { origin: 'https://evil.example' } });
    expect(config.status).toBe(403);
    expect(config.body.code).toBe('ERR_CONFIG');
    const allowed = await t.request(
      'GET',
      `${base}/frame?objectType=subscription&objectId=${subscriptionId}&parentOrigin=http%3A%2F%2Flocalhost%3A3000`,
    );
    expect(allowed.headers['content-security-policy']).toContain('frame-ancestors http://localhost:3000');
    expect(allowed.headers['content-security-policy']).toContain("script-src 'self'");
    expect(allowed.text).not.toMatch(/<script>|style=/);
  });

  it('validates allowed origins: https only in production, localhost only in the sandbox', async () => {
    const key = t.demo.native.apiKey;
    const bad = await t.request('PUT', '/v1/subscriptions/settings', {
      key,
      body: { allowed_origins: ['http://shop.example'] },
    });
    expect(bad.status).toBe(400);
    const path = await t.request('PUT', '/v1/subscriptions/settings', {
      key,
      body: { allowed_origins: ['https://shop.example/checkout'] },
    });
    expect(path.status).toBe(400);
    const ok = await t.request('PUT', '/v1/subscriptions/settings', {
      key,
      body: { allowed_origins: ['https://shop.example', 'http://localhost:3000'] },
    });
    expect(ok.status).toBe(200);
    const merchant = await t.createMerchant('Prod shop');
    const prod = await t.request('PUT', '/v1/subscriptions/settings', {
      key: merchant.productionKey,
      body: { allowed_origins: ['http://localhost:3000'] },
    });
    expect(prod.status).toBe(400);
  });
});
