import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { agreementBody, MobilePayClient, runJobs, startReceiver, type AgrDemo } from './helpers.js';

let t: TestApp;
let mp: MobilePayClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const start = new Date('2030-03-01T10:00:00Z');

beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  receiver = await startReceiver();
  mp = new MobilePayClient(t, t.demo.agreements as AgrDemo);
  await mp.login();
  await mp.call('PATCH', '{p}', {
    body: [{ op: 'replace', path: '/payment_status_callback_url', value: `${receiver.url}/payments` }],
  });
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function newClock(): Promise<string> {
  const res = await t.request('POST', '/v1/sandbox/test-clocks', {
    key: t.demo.native.apiKey,
    body: { frozen_time: start.toISOString() },
  });
  return res.body.id as string;
}
async function advance(clock: string, seconds: number): Promise<void> {
  const now = await t.request('GET', `/v1/sandbox/test-clocks/${clock}`, { key: t.demo.native.apiKey });
  const to = new Date(Date.parse(now.body.frozen_time as string) + seconds * 1000);
  const res = await t.request('POST', `/v1/sandbox/test-clocks/${clock}/advance`, {
    key: t.demo.native.apiKey,
    body: { frozen_time: to.toISOString() },
  });
  expect(res.status).toBe(200);
}
const sandbox = (path: string) =>
  t.request('POST', `/v1/sandbox/agreements${path}`, { key: t.demo.native.apiKey });
const flush = () =>
  t.request('POST', '/v1/sandbox/agreements/callbacks/flush', { key: t.demo.native.apiKey });

describe('agreements: expiry on test clocks', () => {
  it('a pending agreement expires after expiration_timeout_minutes (40001), not a minute before', async () => {
    const clock = await newClock();
    const a = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url, { expiration_timeout_minutes: 10 }),
      headers: { 'payloom-test-clock': clock },
    });
    await advance(clock, 9 * 60);
    expect((await mp.call('GET', `{p}/agreements/${a.body.id}`)).body.status).toBe('Pending');
    await advance(clock, 60);
    expect((await mp.call('GET', `{p}/agreements/${a.body.id}`)).body.status).toBe('Expired');
    expect((await sandbox(`/${a.body.id}/accept`)).status).toBe(409);
    await advance(clock, 1);
    await runJobs(t, () =>
      receiver.received.some(
        (r) => r.path === '/cancel' && (r.body as { agreement_id: string }).agreement_id === a.body.id,
      ),
    );
    expect(receiver.received.find((r) => r.path === '/cancel')?.body).toMatchObject({
      status: 'Expired',
      status_code: 40001,
    });
  });

  it('a requested one-off expires after its timeout (default 1440 min) with a batched 50008 callback', async () => {
    const clock = await newClock();
    const a = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url),
      headers: { 'payloom-test-clock': clock },
    });
    expect((await sandbox(`/${a.body.id}/accept`)).status).toBe(200);
    const o = await mp.call('POST', `{p}/agreements/${a.body.id}/oneoffpayments`, {
      body: { amount: 7, external_id: 'EXP1', description: 'expires' },
    });
    expect(o.status).toBe(202);
    await advance(clock, 1439 * 60);
    expect(
      (await mp.call('GET', `{p}/agreements/${a.body.id}/oneoffpayments/${o.body.id}`)).body.status,
    ).toBe('Requested');
    await advance(clock, 60);
    expect(
      (await mp.call('GET', `{p}/agreements/${a.body.id}/oneoffpayments/${o.body.id}`)).body.status,
    ).toBe('Expired');
    await flush();
    await advance(clock, 1);
    await runJobs(t, () =>
      receiver.received.some(
        (r) => r.path === '/payments' && JSON.stringify(r.body).includes(o.body.id as string),
      ),
    );
    const items = receiver.received
      .filter((r) => r.path === '/payments')
      .flatMap((r) => r.body as Record<string, unknown>[]);
    expect(items.find((i) => i.payment_id === o.body.id)).toMatchObject({
      status: 'Expired',
      status_code: 50008,
      payment_type: 'OneOff',
    });
  });

  it('an uncaptured reservation expires after 6 d 23 h 45 min: the hold is voided, capture is refused', async () => {
    const clock = await newClock();
    const a = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url, {
        one_off_payment: { amount: '12.34', external_id: 'R1', description: 'first' },
      }),
      headers: { 'payloom-test-clock': clock },
    });
    expect((await sandbox(`/${a.body.id}/accept`)).status).toBe(200);
    const oneOff = `{p}/agreements/${a.body.id}/oneoffpayments/${a.body.one_off_payment_id}`;
    expect((await mp.call('GET', oneOff)).body.status).toBe('Reserved');
    const ttl = 6 * 86_400 + 23 * 3600 + 45 * 60;
    await advance(clock, ttl - 1);
    expect((await mp.call('GET', oneOff)).body.status).toBe('Reserved');
    await advance(clock, 1);
    expect((await mp.call('GET', oneOff)).body.status).toBe('Expired');
    const capture = await mp.call('POST', `${oneOff}/capture`);
    expect(capture.status).toBe(409);
    const payment = await t.request(
      'GET',
      `/v1/payments/${(await mp.call('GET', oneOff)).body.payment_transaction_id}`,
      { key: t.demo.native.apiKey },
    );
    expect(payment.body).toMatchObject({ status: 'expired', captured_minor: 0 });
  });

  it('payment requests: due date 1..126 days ahead, duplicates 50004, executed on the due date', async () => {
    const clock = await newClock();
    const a = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url),
      headers: { 'payloom-test-clock': clock },
    });
    await sandbox(`/${a.body.id}/accept`);
    const req = (due: string, external: string) => ({
      agreement_id: a.body.id,
      amount: '9.95',
      due_date: due,
      external_id: external,
      description: 'monthly',
    });
    const batch = await mp.call('POST', '{p}/paymentrequests', {
      headers: { 'payloom-test-clock': clock },
      body: [
        req('2030-03-01', 'today'),
        req('2030-07-06', 'far'),
        req('2030-03-05', 'ok'),
        req('2030-03-05', 'ok'),
        req('2030-07-05', 'edge'),
      ],
    });
    expect(batch.status).toBe(202);
    const ids = (batch.body.pending_payments as { payment_id: string }[]).map((p) => p.payment_id);
    await advance(clock, 1);
    const status = async (id: string | undefined) =>
      (await mp.call('GET', `{p}/agreements/${a.body.id}/paymentrequests/${id}`)).body.status as string;
    expect([
      await status(ids[0]),
      await status(ids[1]),
      await status(ids[2]),
      await status(ids[3]),
      await status(ids[4]),
    ]).toEqual(['Declined', 'Declined', 'Pending', 'Declined', 'Pending']);
    await flush();
    await advance(clock, 1);
    await runJobs(t, () =>
      receiver.received.some((r) => r.path === '/payments' && JSON.stringify(r.body).includes(ids[1] ?? 'x')),
    );
    const items = receiver.received
      .filter((r) => r.path === '/payments')
      .flatMap((r) => r.body as Record<string, unknown>[]);
    expect(items.find((i) => i.payment_id === ids[0])).toMatchObject({ status_code: 50011 });
    expect(items.find((i) => i.payment_id === ids[1])).toMatchObject({ status_code: 50012 });
    expect(items.find((i) => i.payment_id === ids[3])).toMatchObject({ status_code: 50004 });
    // PATCH decreases only.
    expect(
      (
        await mp.call('PATCH', `{p}/agreements/${a.body.id}/paymentrequests/${ids[2]}`, {
          body: [{ op: 'replace', path: '/amount', value: 20 }],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await mp.call('PATCH', `{p}/agreements/${a.body.id}/paymentrequests/${ids[2]}`, {
          body: [{ op: 'replace', path: '/amount', value: '8.50' }],
        })
      ).status,
    ).toBe(204);
    await advance(clock, 3 * 86_400);
    expect(await status(ids[2])).toBe('Pending');
    await advance(clock, 86_400);
    expect(await status(ids[2])).toBe('Executed');
    const executed = await mp.call('GET', `{p}/agreements/${a.body.id}/paymentrequests/${ids[2]}`);
    expect(executed.body.amount).toBe(8.5);
    const payment = await t.request('GET', `/v1/payments/${executed.body.payment_transaction_id}`, {
      key: t.demo.native.apiKey,
    });
    expect(payment.body).toMatchObject({ status: 'succeeded', amount_minor: 850, currency: 'DKK' });
  });

  it('a payer without money: the payment fails (50000); a payer who rejects: Rejected (50001)', async () => {
    const clock = await newClock();
    const ids: string[] = [];
    for (const payer of ['4520000003', '4520000001']) {
      const a = await mp.call('POST', '{p}/agreements', {
        body: agreementBody(receiver.url),
        headers: { 'payloom-test-clock': clock },
      });
      // The agreement itself is approved in the app; the wallet behaviour follows the chosen payment source.
      const accepted = await t.request('POST', `/v1/sandbox/agreements/${a.body.id}/accept`, {
        key: t.demo.native.apiKey,
        body: { payment_source: payer },
      });
      expect(accepted.status).toBe(200);
      const batch = await mp.call('POST', '{p}/paymentrequests', {
        headers: { 'payloom-test-clock': clock },
        body: [
          { agreement_id: a.body.id, amount: 1, due_date: '2030-03-03', external_id: 'x', description: 'd' },
        ],
      });
      ids.push(`${a.body.id}/paymentrequests/${batch.body.pending_payments[0].payment_id}`);
    }
    await advance(clock, 1); // validation runs on the clock's next tick
    await advance(clock, 2 * 86_400);
    expect((await mp.call('GET', `{p}/agreements/${ids[0]}`)).body).toMatchObject({ status: 'Failed' });
    expect((await mp.call('GET', `{p}/agreements/${ids[1]}`)).body.status).toBe('Rejected');
  });
});
