import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transaction } from '../src/core/db/db.js';
import { startJobRunner } from '../src/core/jobs/runner.js';
import { parseCurrency } from '../src/core/money/money.js';
import { createPayment, recordOutcome } from '../src/core/payments/service.js';
import { jobHandlers } from '../src/worker.js';
import { startTestApp, type TestApp } from './harness.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A merchant's webhook receiver on 127.0.0.1 whose answers the test controls. */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  body = 'ok';
  private server: Server | undefined;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body });
        res.writeHead(this.status, { 'content-type': 'text/plain' });
        res.end(this.body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/hooks`;
  }
  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

let t: TestApp;
let key: string;
let merchantId: string;
const EUR = parseCurrency('EUR');
beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  const m = await t.createMerchant('Hooks');
  key = m.sandboxKey;
  merchantId = m.id;
});
afterAll(async () => t.close());

const db = () => t.database.handle.db;

async function sale(testClockId: string | null = null) {
  const p = await transaction(db(), (tx) =>
    createPayment(tx, {
      merchantId,
      environment: 'sandbox',
      product: 'carrier-billing',
      kind: 'sale',
      amount: { amountMinor: 250n, currency: EUR },
      payerRef: '447700900123',
      connectorId: 'simulator',
      testClockId,
    }),
  );
  return recordOutcome(db(), { merchantId, paymentId: p.id, answer: { status: 'succeeded', rawCode: '00' } });
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('condition not reached');
}

describe('webhooks', () => {
  it('signed Standard Webhooks deliveries that verify with the standardwebhooks package', async () => {
    const receiver = new Receiver();
    await receiver.start();
    try {
      const created = await t.request('POST', '/v1/webhook-endpoints', {
        key,
        body: { url: receiver.url, event_types: ['payment.succeeded'] },
      });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_/);
      const shown = await t.request('GET', `/v1/webhook-endpoints/${created.body.id}`, { key });
      expect(shown.text).not.toContain(created.body.secret);

      const payment = await sale();
      const runner = startJobRunner(db(), jobHandlers({ allowPrivateCallbacks: true, sms: t.sms }), {
        info: () => undefined,
        error: () => undefined,
      });
      try {
        await until(() => receiver.received.length === 1);
      } finally {
        await runner.stop();
      }
      const [hit] = receiver.received;
      if (!hit) throw new Error('nothing received');
      const verified = new Webhook(created.body.secret).verify(hit.body, {
        'webhook-id': String(hit.headers['webhook-id']),
        'webhook-timestamp': String(hit.headers['webhook-timestamp']),
        'webhook-signature': String(hit.headers['webhook-signature']),
      }) as { type: string; data: { id: string; status: string } };
      expect(verified.type).toBe('payment.succeeded');
      expect(verified.data).toMatchObject({ id: payment.id, status: 'succeeded' });
      expect(hit.headers['webhook-id']).toMatch(/^evt_/);
      expect(hit.headers['user-agent']).toBe('Payloom-Webhooks/1');

      const deliveries = await t.request('GET', `/v1/webhook-deliveries?endpoint_id=${created.body.id}`, {
        key,
      });
      expect(deliveries.body.data).toHaveLength(1);
      expect(deliveries.body.data[0]).toMatchObject({
        status: 'delivered',
        attempts: 1,
        last_status_code: 200,
      });
      expect(deliveries.body.data[0].attempt_log[0]).toMatchObject({
        outcome: 'delivered',
        status_code: 200,
        response_snippet: 'ok',
      });

      // Only the subscribed type is delivered: the payment.created event made no delivery.
      const events = await t.request('GET', `/v1/events?type=payment.created`, { key });
      expect(events.body.data.some((e: { object_id: string }) => e.object_id === payment.id)).toBe(true);
      await t.request('DELETE', `/v1/webhook-endpoints/${created.body.id}`, { key });
    } finally {
      await receiver.stop();
    }
  });

  it('an endpoint down for a simulated day gets the event after it comes back (test clock)', async () => {
    const receiver = new Receiver();
    await receiver.start();
    try {
      const endpoint = await t.request('POST', '/v1/webhook-endpoints', {
        key,
        body: { url: receiver.url, event_types: ['payment.succeeded'] },
      });
      const clock = await t.request('POST', '/v1/sandbox/test-clocks', {
        key,
        body: { frozen_time: '2033-03-01T00:00:00.000Z' },
      });
      receiver.status = 503;
      receiver.body = 'x'.repeat(1000);
      await sale(clock.body.id);
      const day = await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
        key,
        body: { frozen_time: '2033-03-02T00:00:00.000Z' },
      });
      expect(day.status).toBe(200);
      const failures = receiver.received.length;
      expect(failures).toBeGreaterThanOrEqual(6);
      const pending = await t.request('GET', `/v1/webhook-deliveries?endpoint_id=${endpoint.body.id}`, {
        key,
      });
      const delivery = pending.body.data[0];
      expect(delivery).toMatchObject({ status: 'pending', last_status_code: 503 });
      expect(
        delivery.attempt_log.every(
          (a: { response_snippet: string }) => Buffer.byteLength(a.response_snippet) <= 256,
        ),
      ).toBe(true);
      expect(new Date(delivery.next_attempt_at).getTime()).toBeGreaterThan(
        new Date('2033-03-02T00:00:00.000Z').getTime(),
      );

      receiver.status = 204;
      receiver.body = '';
      await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
        key,
        body: { frozen_time: '2033-03-03T00:00:00.000Z' },
      });
      const done = await t.request('GET', `/v1/webhook-deliveries/${delivery.id}`, { key });
      expect(done.body.status).toBe('delivered');
      expect(done.body.attempts).toBe(failures + 1);
      const last = receiver.received.at(-1);
      if (!last) throw new Error('nothing received');
      const verified = new Webhook(endpoint.body.secret).verify(last.body, {
        'webhook-id': String(last.headers['webhook-id']),
        'webhook-timestamp': String(last.headers['webhook-timestamp']),
        'webhook-signature': String(last.headers['webhook-signature']),
      });
      expect(verified).toMatchObject({ type: 'payment.succeeded' });
      await t.request('DELETE', `/v1/webhook-endpoints/${endpoint.body.id}`, { key });
    } finally {
      await receiver.stop();
    }
  });

  it('410 Gone disables the endpoint; later events make no deliveries; a manual retry replays', async () => {
    const receiver = new Receiver();
    await receiver.start();
    try {
      const endpoint = await t.request('POST', '/v1/webhook-endpoints', {
        key,
        body: { url: receiver.url, event_types: ['payment.succeeded'] },
      });
      const clock = await t.request('POST', '/v1/sandbox/test-clocks', {
        key,
        body: { frozen_time: '2034-01-01T00:00:00.000Z' },
      });
      receiver.status = 410;
      await sale(clock.body.id);
      await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
        key,
        body: { frozen_time: '2034-01-01T00:00:01.000Z' },
      });
      const disabled = await t.request('GET', `/v1/webhook-endpoints/${endpoint.body.id}`, { key });
      expect(disabled.body).toMatchObject({ enabled: false });
      expect(disabled.body.disabled_reason).toContain('410');
      const [delivery] = (
        await t.request('GET', `/v1/webhook-deliveries?endpoint_id=${endpoint.body.id}`, { key })
      ).body.data;
      expect(delivery.status).toBe('failed');
      await sale(clock.body.id);
      expect(
        (await t.request('GET', `/v1/webhook-deliveries?endpoint_id=${endpoint.body.id}`, { key })).body.data,
      ).toHaveLength(1);

      await t.request('PATCH', `/v1/webhook-endpoints/${endpoint.body.id}`, { key, body: { enabled: true } });
      receiver.status = 200;
      const retried = await t.request('POST', `/v1/webhook-deliveries/${delivery.id}/retry`, { key });
      expect(retried.status).toBe(202);
      await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
        key,
        body: { frozen_time: '2034-01-01T00:00:02.000Z' },
      });
      const replayed = await t.request('GET', `/v1/webhook-deliveries/${delivery.id}`, { key });
      expect(replayed.body).toMatchObject({ status: 'delivered', attempts: 2 });
    } finally {
      await receiver.stop();
    }
  });

  it('secret rotation: for 24 hours every delivery carries a signature for the old and the new secret', async () => {
    const receiver = new Receiver();
    await receiver.start();
    try {
      const endpoint = await t.request('POST', '/v1/webhook-endpoints', {
        key,
        body: { url: receiver.url, event_types: ['payment.succeeded'] },
      });
      const rotated = await t.request('POST', `/v1/webhook-endpoints/${endpoint.body.id}/rotate-secret`, {
        key,
      });
      expect(rotated.body.secret).not.toBe(endpoint.body.secret);
      const clock = await t.request('POST', '/v1/sandbox/test-clocks', {
        key,
        body: { frozen_time: '2035-01-01T00:00:00.000Z' },
      });
      await sale(clock.body.id);
      await t.request('POST', `/v1/sandbox/test-clocks/${clock.body.id}/advance`, {
        key,
        body: { frozen_time: '2035-01-01T00:00:01.000Z' },
      });
      const hit = receiver.received.at(-1);
      if (!hit) throw new Error('nothing received');
      const headers = {
        'webhook-id': String(hit.headers['webhook-id']),
        'webhook-timestamp': String(hit.headers['webhook-timestamp']),
        'webhook-signature': String(hit.headers['webhook-signature']),
      };
      expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
      expect(() => new Webhook(endpoint.body.secret).verify(hit.body, headers)).not.toThrow();
      expect(() => new Webhook(rotated.body.secret).verify(hit.body, headers)).not.toThrow();
      await t.request('DELETE', `/v1/webhook-endpoints/${endpoint.body.id}`, { key });
    } finally {
      await receiver.stop();
    }
  });
});

describe('webhook endpoint URLs (SSRF guard at registration)', () => {
  it('private, loopback, metadata and odd numeric forms are refused unless private callbacks are allowed', async () => {
    const strict = await startTestApp();
    try {
      const m = await strict.createMerchant();
      for (const url of [
        'http://127.0.0.1/x',
        'http://2130706433/x',
        'http://0x7f000001/x',
        'http://017700000001/x',
        'http://127.1/x',
        'http://[::1]/x',
        'http://[::ffff:127.0.0.1]/x',
        'http://10.0.0.5/x',
        'http://172.16.3.4/x',
        'http://192.168.1.1/x',
        'http://169.254.169.254/latest/meta-data',
        'http://100.64.0.1/x',
        'http://[fd00::1]/x',
        'http://[fe80::1]/x',
        'ftp://example.com/x',
        'https://user:pass@example.com/x',
      ]) {
        const res = await strict.request('POST', '/v1/webhook-endpoints', {
          key: m.sandboxKey,
          body: { url },
        });
        expect(res.status, url).toBe(400);
        expect(res.body.param).toBe('/url');
      }
      const plain = await strict.request('POST', '/v1/webhook-endpoints', {
        key: m.productionKey,
        body: { url: 'http://example.com/x' },
      });
      expect(plain.status).toBe(400);
      const ok = await strict.request('POST', '/v1/webhook-endpoints', {
        key: m.productionKey,
        body: { url: 'https://example.com/x' },
      });
      expect(ok.status).toBe(201);
    } finally {
      await strict.close();
    }
  });
});
