import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../browser.js';
import { merchantPageServer, originOf, storeCardInBrowser } from './browser-helpers.js';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueJobs, completeJob } from '../../src/core/jobs/jobs.js';
import { jobHandlers } from '../../src/worker.js';
import { startTestApp, type ApiResponse, type TestApp } from '../harness.js';
import {
  advance,
  basic,
  createClock,
  planBody,
  seriesBody,
  sp,
  spDemo,
  storeCard,
  subscriptionBody,
} from './helpers.js';

/**
 * The end-to-end run on one test clock: a plan with a 14-day trial billed monthly, subscriptions
 * through a year (automatic retries, a Failed cycle recovered by a new card and a manual retry, a pause
 * from month 7 to month 9, a cancel), a payment series with three charges and a partial refund, every
 * SmartPay notification received with Basic auth, no card number anywhere, and a clean ledger.
 */
const pans = [
  '4242424242424242',
  '4000000000009953',
  '4000000000000341',
  '5555555555554444',
  '4000000000003220',
];

let t: TestApp;
let call: ReturnType<typeof sp>;
let server: Server;
let browser: Browser;
let shop: Server;
let scriptUrl = '';
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
const responses: string[] = [];

async function drainRealTimeJobs(): Promise<void> {
  const handlers = jobHandlers(t.services);
  for (;;) {
    const jobs = await claimDueJobs(t.database.handle.db, {
      workerId: 'test',
      queues: [...handlers.keys()],
      limit: 100,
    });
    if (jobs.length === 0) return;
    for (const job of jobs) {
      await handlers.get(job.queue)?.(job, {
        db: t.database.handle.db,
        now: new Date(),
        log: { info() {}, error() {} },
      });
      await completeJob(t.database.handle.db, job, 'test');
    }
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  // Payloom on localhost:B, the merchant's page on 127.0.0.1:A: the widget really runs cross-origin.
  await t.app.listen({ port: 0, host: 'localhost' });
  const port = (t.app.server.address() as AddressInfo).port;
  scriptUrl = `http://localhost:${port}${new URL(spDemo(t).widgetScriptUrl).pathname}`;
  shop = await merchantPageServer(() => scriptUrl);
  browser = await launchBrowser();
  const raw = sp(t);
  call = async (method, path, options) => {
    const response: ApiResponse = await raw(method, path, options);
    responses.push(response.text);
    return response;
  };
});
afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => shop.close(resolve));
  await t.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('subscriptions end to end on a test clock', () => {
  it('bills a year, retries, recovers, pauses, cancels, runs a payment series and notifies with Basic auth', async () => {
    const native = { key: t.demo.native.apiKey };
    const port = (server.address() as AddressInfo).port;
    const settings = await t.request('PUT', '/v1/subscriptions/settings', {
      ...native,
      body: {
        allowed_origins: [originOf(shop), 'http://localhost:3000'],
        notification_url: `http://127.0.0.1:${port}/smartpay-notifications`,
        notification_auth: { type: 'basic', username: 'shop', password: 'hook-password-1' },
      },
    });
    expect(settings.status).toBe(200);
    expect(settings.body.notification_auth).toEqual({ type: 'basic', username: 'shop' });

    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const onClock = { headers: { 'x-payloom-test-clock': clock } };
    const plan = (
      await call('POST', '/plans', {
        body: planBody({ trialDurationPeriod: 14, trialDurationUnit: 'day', recurrentAmount: '31.00' }),
      })
    ).body;
    const subscribe = async (customer: string) =>
      (
        await call('POST', '/subscriptions', {
          ...onClock,
          body: subscriptionBody(plan.id, { customerAccountId: customer }),
        })
      ).body.id as string;
    const happy = await subscribe('c-happy');
    const short = await subscribe('c-short');
    const declined = await subscribe('c-declined');
    const paused = await subscribe('c-paused');
    const canceled = await subscribe('c-canceled');
    for (const [id, pan] of [
      [happy, pans[0]],
      [short, pans[1]],
      [declined, pans[2]],
      [paused, pans[0]],
      [canceled, pans[0]],
    ] as const) {
      const stored = await storeCard(t, 'subscription', id, pan ?? '');
      responses.push(stored.text);
      expect(stored.status).toBe(200);
    }

    await advance(t, clock, '2030-01-25T00:00:00Z');
    const declinedCycles = (await call('GET', `/subscriptions/${declined}/billing-cycles`)).body.data;
    expect(declinedCycles[0]).toMatchObject({ status: 'Failed', attempts: 4 });
    expect((await call('GET', `/subscriptions/${declined}`)).body.balance).toBe(31);
    responses.push((await storeCard(t, 'subscription', declined, pans[3] ?? '')).text);
    const retry = await call(
      'POST',
      `/subscriptions/${declined}/billing-cycles/${String(declinedCycles[0].id)}/manual-retries`,
      {
        body: { reason: 'Customer stored a new card' },
      },
    );
    expect(retry.body.paymentStatus).toBe('captured');

    await advance(t, clock, '2030-03-20T00:00:00Z');
    expect((await call('DELETE', `/subscriptions/${canceled}`)).status).toBe(204);
    await advance(t, clock, '2030-07-20T12:00:00Z');
    expect(
      (await call('PATCH', `/subscriptions/${paused}`, { body: { status: 'paused' } })).body.status,
    ).toBe('paused');
    await advance(t, clock, '2030-09-20T12:00:00Z');
    expect(
      (await call('PATCH', `/subscriptions/${paused}`, { body: { status: 'active' } })).body.status,
    ).toBe('active');
    await advance(t, clock, '2031-01-01T00:00:00Z');

    const datesOf = async (id: string) =>
      (
        (await call('GET', `/subscriptions/${id}/billing-cycles?pageSize=50`)).body.data as Array<
          Record<string, unknown>
        >
      ).map((c) => [c.billingDate, c.status, c.amount]);
    const months = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
    expect(await datesOf(happy)).toEqual([
      ...months.map((m) => [`2030-${m}-15`, 'Captured', 31]),
      ['2031-01-15', 'Scheduled', 31],
    ]);
    const shortCycles = (await call('GET', `/subscriptions/${short}/billing-cycles?pageSize=50`)).body.data;
    expect(shortCycles[0]).toMatchObject({
      status: 'Captured',
      attempts: 3,
      paidAt: '2030-01-18T09:00:00.00Z',
    });
    expect(shortCycles.filter((c: { status: string }) => c.status === 'Captured')).toHaveLength(12);
    const declinedAll = await datesOf(declined);
    expect(declinedAll.slice(0, 12).every((c) => c[1] === 'Captured')).toBe(true);
    expect(await datesOf(canceled)).toEqual([
      ['2030-01-15', 'Captured', 31],
      ['2030-02-15', 'Captured', 31],
      ['2030-03-15', 'Captured', 31],
    ]);
    expect(await datesOf(paused)).toEqual([
      ...months.slice(0, 7).map((m) => [`2030-${m}-15`, 'Captured', 31]),
      ['2030-10-15', 'Captured', 5],
      ['2030-11-15', 'Captured', 31],
      ['2030-12-15', 'Captured', 31],
      ['2031-01-15', 'Scheduled', 31],
    ]);

    // A payment series: the 3-D Secure card, three on-demand charges, a partial refund of one.
    const series = (
      await call('POST', '/payment-series', {
        ...onClock,
        body: seriesBody({ customerAccountId: 'c-series' }),
      })
    ).body;
    // The 3-D Secure card, in Chromium: the challenge is completed inside the iframe.
    const stored = await storeCardInBrowser(browser, shop, 'payment-series', series.id, pans[4] ?? '');
    responses.push(JSON.stringify(stored));
    expect((stored.ok as Record<string, unknown>).billingAgreementName).toBe('Visa');
    const charges = [];
    for (const [amount, description] of [
      ['7.30', 'order 1'],
      [12, 'order 2'],
      ['0.99', 'order 3'],
    ] as const) {
      const charge = await call('POST', `/payment-series/${String(series.id)}/transactions`, {
        body: { amount, description },
      });
      expect(charge.status).toBe(201);
      expect(charge.body.paymentStatus).toBe('captured');
      charges.push(charge.body);
    }
    const listed = await call('GET', `/payment-series/${String(series.id)}/transactions`);
    expect(listed.body.count).toBe(3);
    expect(listed.body.data[0].transactionLogs.map((l: { status: string }) => l.status)).toEqual([
      'pending',
      'succeeded',
    ]);
    const refund = await t.request(
      'POST',
      `/v1/payments/${String(charges[1].transactionReferenceId)}/refunds`,
      { ...native, body: { amount_minor: 500 } },
    );
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ kind: 'refund', status: 'succeeded', amount_minor: 500 });
    const tooMuch = await t.request(
      'POST',
      `/v1/payments/${String(charges[1].transactionReferenceId)}/refunds`,
      { ...native, body: { amount_minor: 701 } },
    );
    expect(tooMuch.status).toBe(409);
    const balances = (await t.request('GET', '/v1/balances', native)).body.data;
    expect(balances.length).toBeGreaterThan(0);

    // Every notification arrived with Basic auth and in the SmartPay shape.
    await advance(t, clock, '2031-01-01T00:10:00Z');
    await drainRealTimeJobs();
    const expectedAuth = basic('shop', 'hook-password-1');
    expect(received.length).toBeGreaterThan(100);
    expect(received.every((r) => r.headers.authorization === expectedAuth)).toBe(true);
    const bodies = received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    for (const body of bodies) {
      expect(body.id).toMatch(/^event-[0-9a-f-]{36}$/);
      expect(body.sourceSystem).toBe('subscription-module');
      expect(['api', 'widget', 'automated']).toContain(body.origin);
      expect(body.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{2}Z$/);
    }
    const types = new Set(bodies.map((b) => b.eventType));
    for (const type of [
      'created',
      'updated',
      'deleted',
      'status.updated',
      'billing.updated',
      'billing.scheduled',
    ]) {
      expect(types.has(type), type).toBe(true);
    }
    const deliveries = await t.request('GET', '/v1/webhook-deliveries?limit=100', native);
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.data.length).toBeGreaterThan(0);
    expect(deliveries.body.data.every((d: { status: string }) => d.status === 'delivered')).toBe(true);

    // No card number in logs, events, notifications or responses.
    const { rows: events } = await sql<{ data: unknown }>`SELECT data FROM events`.execute(
      t.database.handle.db,
    );
    const haystacks = [
      t.logs.join('\n'),
      JSON.stringify(events),
      received.map((r) => r.body).join('\n'),
      responses.join('\n'),
    ];
    for (const pan of pans) {
      for (const hay of haystacks) expect(hay.includes(pan)).toBe(false);
    }
    const { rows: jobs } = await sql<{ payload: unknown }>`SELECT payload FROM jobs`.execute(
      t.database.handle.db,
    );
    for (const pan of pans) expect(JSON.stringify(jobs).includes(pan)).toBe(false);
  });

  it('raises billing.expires when the stored card expires before the next charge', async () => {
    const clock = await createClock(t, '2030-01-01T08:00:00Z');
    const planId = (await call('POST', '/plans', { body: planBody() })).body.id as string;
    const id = (
      await call('POST', '/subscriptions', {
        headers: { 'x-payloom-test-clock': clock },
        body: subscriptionBody(planId, { customerAccountId: 'c-expiring' }),
      })
    ).body.id as string;
    await storeCard(t, 'subscription', id, '4242424242424242', { expiryYear: 2030 });
    await advance(t, clock, '2030-12-02T00:00:00Z');
    const { rows } = await sql<{
      object_id: string;
    }>`SELECT object_id FROM events WHERE type = 'smartpay.billing.expires'`.execute(t.database.handle.db);
    expect(rows.map((r) => r.object_id)).toContain(id);
  });
});
