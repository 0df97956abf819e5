import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  flushPaymentCallbacks,
  mobilePayRetryDelaysSeconds,
} from '../../src/products/agreements/callback.js';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../harness.js';
import { agreementBody, MobilePayClient, runJobs, type AgrDemo } from './helpers.js';

let t: TestApp;
let mp: MobilePayClient;
let server: Server;
let base: string;
const seen: { path: string; authorization: string | undefined; body: string }[] = [];
const tokenRequests: string[] = [];

beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  mp = new MobilePayClient(t, t.demo.agreements as AgrDemo);
  await mp.login();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/token') {
        tokenRequests.push(`${req.headers.authorization ?? ''} ${body}`);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: 'tok-123', token_type: 'Bearer' }));
        return;
      }
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      res.writeHead(req.url?.startsWith('/fail') ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

async function acceptedAgreement(path: string, headers: Record<string, string> = {}): Promise<string> {
  const body = agreementBody(base);
  body.links = body.links.map((l) => (l.rel === 'success-callback' ? { ...l, href: `${base}${path}` } : l));
  const a = await mp.call('POST', '{p}/agreements', { body, headers });
  expect(
    (await t.request('POST', `/v1/sandbox/agreements/${a.body.id}/accept`, { key: t.demo.native.apiKey }))
      .status,
  ).toBe(200);
  return a.body.id as string;
}

describe('agreements: callback auth and retry schedule', () => {
  it('sends the provider API key as Authorization', async () => {
    expect((await mp.call('PUT', '{p}/auth/apikey', { body: { api_key: 'SecretKey123==' } })).status).toBe(
      204,
    );
    const provider = await mp.call('GET', '{p}');
    expect(provider.body.credentials).toMatchObject({ scheme: 'apikey', password: null });
    expect(JSON.stringify(provider.body)).not.toContain('SecretKey123');
    const id = await acceptedAgreement('/apikey');
    await runJobs(t, () => seen.some((s) => s.path === '/apikey'));
    const hit = seen.find((s) => s.path === '/apikey');
    expect(hit?.authorization).toBe('SecretKey123==');
    expect(JSON.parse(hit?.body ?? '{}')).toMatchObject({ agreement_id: id, status_code: 0 });
  });

  it('OAuth2 client credentials: fetches a token from the merchant token URL and sends it as Bearer', async () => {
    const put = await mp.call('PUT', '{p}/auth/oauth2', {
      body: {
        client_id: 'cb-client',
        client_secret: 'cb-secret',
        token_url: `${base}/token`,
        scope: 'callbacks',
      },
    });
    expect(put.status).toBe(204);
    await acceptedAgreement('/oauth');
    await runJobs(t, () => seen.some((s) => s.path === '/oauth'));
    expect(seen.find((s) => s.path === '/oauth')?.authorization).toBe('Bearer tok-123');
    expect(tokenRequests.at(-1)).toContain(`Basic ${Buffer.from('cb-client:cb-secret').toString('base64')}`);
    expect(tokenRequests.at(-1)).toContain('grant_type=client_credentials');
  });

  it('rejects an invalid auth body with the documented error and keeps the previous auth', async () => {
    const bad = await mp.call('PUT', '{p}/auth/basic', { body: { user_name: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error_description.message).toMatch(/^password:/);
    expect((await mp.call('GET', '{p}')).body.credentials.scheme).toBe('oauth2');
  });

  it('retries a failing receiver on the MobilePay schedule: 8 retries (+5 s … +21 h 10), then gives up', async () => {
    await mp.call('PUT', '{p}/auth/basic', { body: { user_name: 'u', password: 'p' } });
    const clock = await t.request('POST', '/v1/sandbox/test-clocks', {
      key: t.demo.native.apiKey,
      body: { frozen_time: '2030-01-01T00:00:00Z' },
    });
    const id = await acceptedAgreement('/fail', { 'payloom-test-clock': clock.body.id as string });
    const deliveries = () =>
      t.database.handle.db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('events as e', (j) =>
          j.onRef('e.id', '=', 'd.event_id').onRef('e.merchant_id', '=', 'd.merchant_id'),
        )
        .select(['d.id', 'd.status', 'd.attempts', 'd.next_attempt_at'])
        .where('e.object_id', '=', id)
        .executeTakeFirstOrThrow();
    let now = new Date('2030-01-01T00:00:00Z');
    const delays: number[] = [];
    for (let attempt = 0; attempt < 9; attempt++) {
      await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
        key: t.demo.native.apiKey,
        body: { frozen_time: now.toISOString() },
      });
      const d = await deliveries();
      expect(d.attempts).toBe(attempt + 1);
      if (!d.next_attempt_at) break;
      delays.push((d.next_attempt_at.getTime() - now.getTime()) / 1000);
      now = d.next_attempt_at;
    }
    expect(delays).toHaveLength(8);
    delays.forEach((delay, i) => {
      const expected = mobilePayRetryDelaysSeconds[i] ?? 0;
      expect(delay).toBeGreaterThanOrEqual(Math.floor(expected * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.ceil(expected * 1.2));
    });
    expect((await deliveries()).status).toBe('failed');
    expect(seen.filter((s) => s.path === '/fail')).toHaveLength(9);
  });
});

describe('agreements: auto_reserve', () => {
  it('is refused until an operator enables it; then reserves at once or reports 50013', async () => {
    const a = await acceptedAgreement('/ar');
    const path = `{p}/agreements/${a}/oneoffpayments`;
    const refused = await mp.call('POST', path, {
      body: { amount: 3, external_id: 'AR1', description: 'auto', auto_reserve: true },
    });
    expect(refused.status).toBe(412);
    expect(refused.body.error_description.error_code).toBe('AutoReserveNotAllowed');
    const enable = await t.request(
      'PUT',
      `/v1/operator/agreements/providers/${mp.demo.providerId}/auto-reserve`,
      { key: t.demo.operator.apiKey, body: { enabled: true } },
    );
    expect(enable.status).toBe(200);
    const ok = await mp.call('POST', path, {
      body: { amount: 3, external_id: 'AR2', description: 'auto', auto_reserve: true },
    });
    expect(ok.status).toBe(202);
    expect((await mp.call('GET', `${path}/${ok.body.id}`)).body.status).toBe('Reserved');

    // A payer whose card has no money: the automatic reservation fails, the one-off waits for the payer.
    const body = agreementBody(base);
    const poor = await mp.call('POST', '{p}/agreements', { body });
    await t.request('POST', `/v1/sandbox/agreements/${poor.body.id}/accept`, {
      key: t.demo.native.apiKey,
      body: { payment_source: '4520000003' },
    });
    await mp.call('PATCH', '{p}', {
      body: [{ op: 'replace', path: '/payment_status_callback_url', value: `${base}/payments` }],
    });
    const failed = await mp.call('POST', `{p}/agreements/${poor.body.id}/oneoffpayments`, {
      body: { amount: 3, external_id: 'AR3', description: 'auto', auto_reserve: true },
    });
    expect(failed.status).toBe(202);
    expect(
      (await mp.call('GET', `{p}/agreements/${poor.body.id}/oneoffpayments/${failed.body.id}`)).body.status,
    ).toBe('Requested');
    await runJobs(t, () =>
      seen.some((s) => s.path === '/payments' && s.body.includes(failed.body.id as string)),
    );
    const item = (
      JSON.parse(
        seen.find((s) => s.path === '/payments' && s.body.includes(failed.body.id as string))?.body ?? '[]',
      ) as Record<string, unknown>[]
    )[0];
    expect(item).toMatchObject({ status: 'Requested', status_code: 50013, payment_type: 'OneOff' });
  });
});

describe('agreements: batched payment callbacks', () => {
  it('wait for the provider batch interval (configurable), then go out as one array', async () => {
    const set = await t.request('PATCH', `/v1/agreements/providers/${mp.demo.providerId}`, {
      key: t.demo.native.apiKey,
      body: { callback_batch_seconds: 30 },
    });
    expect(set.body).toEqual({ id: mp.demo.providerId, callback_batch_seconds: 30 });
    await mp.call('PATCH', '{p}', {
      body: [{ op: 'replace', path: '/payment_status_callback_url', value: `${base}/batch` }],
    });
    const a = await acceptedAgreement('/batch-agreement');
    const due = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    const batch = await mp.call('POST', '{p}/paymentrequests', {
      body: ['B1', 'B2', 'B3'].map((x) => ({
        agreement_id: a,
        amount: 1,
        due_date: due,
        external_id: x,
        description: 'd',
      })),
    });
    await runJobs(t, async () => {
      const rows = await sql<{
        n: string;
      }>`SELECT count(*) AS n FROM agr_payment_requests WHERE agreement_id = ${a}::uuid AND status = 'Pending'`.execute(
        t.database.handle.db,
      );
      return Number(rows.rows[0]?.n) === 3;
    });
    for (const p of batch.body.pending_payments as { payment_id: string }[]) {
      expect((await mp.call('DELETE', `{p}/agreements/${a}/paymentrequests/${p.payment_id}`)).status).toBe(
        204,
      );
    }
    const db = t.database.handle.db;
    expect(await flushPaymentCallbacks(db)).toBe(0); // younger than 30 s: not yet
    await sql`UPDATE agr_callback_queue SET created_at = created_at - interval '31 seconds' WHERE provider_id = ${mp.demo.providerId}::uuid`.execute(
      db,
    );
    expect(await flushPaymentCallbacks(db)).toBe(1);
    await runJobs(t, () => seen.some((s) => s.path === '/batch'));
    const items = JSON.parse(seen.find((s) => s.path === '/batch')?.body ?? '[]') as Record<
      string,
      unknown
    >[];
    expect(items.map((i) => `${String(i.external_id)} ${String(i.status)} ${String(i.status_code)}`)).toEqual(
      ['B1 Declined 50002', 'B2 Declined 50002', 'B3 Declined 50002'],
    );
  });
});
