import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { agreementBody, MobilePayClient, runJobs, startReceiver, type AgrDemo } from './helpers.js';

let t: TestApp;
let mp: MobilePayClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  receiver = await startReceiver();
  mp = new MobilePayClient(t, t.demo.agreements as AgrDemo);
  await mp.login();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

const sandbox = (path: string, body?: unknown) =>
  t.request('POST', `/v1/sandbox/agreements${path}`, {
    key: t.demo.native.apiKey,
    ...(body ? { body } : {}),
  });

describe('agreements: auth', () => {
  it('refuses calls without the application credentials or the bearer token, with an empty 401', async () => {
    const noApp = await t.request('GET', '/subscriptions/api/merchants/me', {
      headers: { authorization: `Bearer ${mp.token}` },
    });
    expect(noApp.status).toBe(401);
    expect(noApp.text).toBe('');
    const badToken = await t.request('GET', '/subscriptions/api/merchants/me', {
      headers: { ...mp.headers(), authorization: 'Bearer nope' },
    });
    expect(badToken.status).toBe(401);
    const wrongSecret = await t.request('GET', '/subscriptions/api/merchants/me', {
      headers: { ...mp.headers(), 'x-ibm-client-secret': 'x' },
    });
    expect(wrongSecret.status).toBe(401);
  });

  it('serves the discovery document and lists the merchant providers in PascalCase', async () => {
    const discovery = await t.request('GET', '/subscriptions/oidc/.well-known/openid-configuration');
    expect(discovery.body).toMatchObject({ code_challenge_methods_supported: ['S256'] });
    const me = await mp.call('GET', '/merchants/me', { headers: { CorrelationId: 'abc-1' } });
    expect(me.status).toBe(200);
    expect(me.headers.correlationid).toBe('abc-1');
    expect(me.body.SubscriptionProviders[0]).toMatchObject({
      SubscriptionProviderId: mp.demo.providerId,
      Status: 'Enabled',
    });
  });
});

describe('agreements: production-verification sequence', () => {
  it('agreement → accept → payment → decline → executed → cancel → refund → one-offs → attachment', async () => {
    const patch = await mp.call('PATCH', '{p}', {
      body: [{ op: 'replace', path: '/payment_status_callback_url', value: `${receiver.url}/payments` }],
    });
    expect(patch.status).toBe(204);
    const auth = await mp.call('PUT', '{p}/auth/basic', { body: { user_name: 'cb', password: 'pw' } });
    expect(auth.status).toBe(204);

    // Everything on this agreement runs on a test clock: validation, the due date, callbacks.
    const clockRes = await t.request('POST', '/v1/sandbox/test-clocks', {
      key: t.demo.native.apiKey,
      body: { frozen_time: '2030-04-01T09:00:00Z' },
    });
    const clock = clockRes.body.id as string;
    let now = Date.parse('2030-04-01T09:00:00Z');
    const advance = async (seconds: number) => {
      now += seconds * 1000;
      const res = await t.request('POST', `/v1/sandbox/test-clocks/${clock}/advance`, {
        key: t.demo.native.apiKey,
        body: { frozen_time: new Date(now).toISOString() },
      });
      expect(res.status).toBe(200);
    };
    const onClock = { 'payloom-test-clock': clock };

    // 1. agreement
    const created = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url),
      headers: onClock,
    });
    expect(created.status).toBe(201);
    const agreementId = created.body.id as string;
    expect(created.body.links[0].rel).toBe('mobile-pay');
    // 2. accept
    expect((await sandbox(`/${agreementId}/accept`)).status).toBe(200);
    const got = await mp.call('GET', `{p}/agreements/${agreementId}`);
    expect(got.body).toMatchObject({ status: 'Active', amount: 10, currency: 'DKK', frequency: 12 });

    // 3-4. payment request, then declined by the merchant
    const due = '2030-04-04';
    const batch = await mp.call('POST', '{p}/paymentrequests', {
      headers: onClock,
      body: [
        {
          agreement_id: agreementId,
          amount: '10.99',
          due_date: due,
          external_id: 'P1',
          description: 'March',
        },
        { agreement_id: agreementId, amount: 5, due_date: due, external_id: 'P2', description: 'April' },
        { agreement_id: agreementId, amount: 5, due_date: due, description: 'no external id' },
      ],
    });
    expect(batch.status).toBe(202);
    expect(batch.body.pending_payments).toHaveLength(2);
    expect(batch.body.rejected_payments[0].error_description).toMatch(/external_id/);
    const [p1, p2] = batch.body.pending_payments as { payment_id: string }[];
    await advance(1); // validation
    expect(
      (await mp.call('GET', `{p}/agreements/${agreementId}/paymentrequests/${p2?.payment_id}`)).body.status,
    ).toBe('Pending');
    expect(
      (await mp.call('DELETE', `{p}/agreements/${agreementId}/paymentrequests/${p2?.payment_id}`)).status,
    ).toBe(204);
    // 5. executed on its due date by the worker job, through the payer-wallet connector
    await advance(2 * 86_400);
    expect(
      (await mp.call('GET', `{p}/agreements/${agreementId}/paymentrequests/${p1?.payment_id}`)).body.status,
    ).toBe('Pending');
    await advance(86_400);
    const executed = await mp.call('GET', `{p}/agreements/${agreementId}/paymentrequests/${p1?.payment_id}`);
    expect(executed.body).toMatchObject({ status: 'Executed', amount: 10.99 });
    // 7. refund a part of it
    const refund = await mp.call('POST', `{p}/agreements/${agreementId}/payments/${p1?.payment_id}/refunds`, {
      body: { amount: '3.50', status_callback_url: `${receiver.url}/refund`, external_id: 'R1' },
    });
    expect(refund.status).toBe(202);
    // 8-10. one-off: request and cancel, request and accept, capture
    const o1 = await mp.call('POST', `{p}/agreements/${agreementId}/oneoffpayments`, {
      body: {
        amount: '80',
        external_id: 'OOP1',
        description: 'Extra',
        links: [{ rel: 'user-redirect', href: `${receiver.url}/r` }],
      },
    });
    expect(o1.status).toBe(202);
    expect(
      (await mp.call('DELETE', `{p}/agreements/${agreementId}/oneoffpayments/${o1.body.id}`)).status,
    ).toBe(204);
    const o2 = await mp.call('POST', `{p}/agreements/${agreementId}/oneoffpayments`, {
      body: { amount: 19.45, external_id: 'OOP2', description: 'Extra 2' },
    });
    const acc = await sandbox(`/one-off-payments/${o2.body.id}/accept`);
    expect(acc.status).toBe(200);
    expect(
      (await mp.call('GET', `{p}/agreements/${agreementId}/oneoffpayments/${o2.body.id}`)).body.status,
    ).toBe('Reserved');
    expect(
      (await mp.call('POST', `{p}/agreements/${agreementId}/oneoffpayments/${o2.body.id}/capture`)).status,
    ).toBe(204);
    const again = await mp.call('POST', `{p}/agreements/${agreementId}/oneoffpayments/${o2.body.id}/capture`);
    expect(again.status).toBe(409);
    expect(again.body.error_description.error_code).toBe('AlreadyCaptured');
    // 11. attachment
    const put = await mp.call('PUT', `{p}/payments/${o2.body.id}/attachment`, {
      body: {
        generate_pdf: true,
        attachment_details: {
          document_title: 'Receipt',
          total_amount: 19.45,
          articles: [{ article_description: 'Extra 2', quantity: 1 }],
        },
      },
    });
    expect(put.status).toBe(204);
    const pdf = await mp.call('GET', `{p}/payments/${o2.body.id}/attachment/pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.text.startsWith('%PDF')).toBe(true);
    // 6. cancel the agreement
    expect((await mp.call('DELETE', `{p}/agreements/${agreementId}`)).status).toBe(204);

    // Every callback arrives: agreement success + cancel, one-off Reserved, batched payment statuses, refund.
    await runJobs(t, async () => {
      await t.request('POST', '/v1/sandbox/agreements/callbacks/flush', { key: t.demo.native.apiKey });
      await advance(1);
      const paths = receiver.received.map((r) => r.path);
      return (
        ['/success', '/cancel', '/refund'].every((p) => paths.includes(p)) &&
        paths.filter((p) => p === '/payments').length >= 2
      );
    });
    const byPath = (p: string) => receiver.received.filter((r) => r.path === p);
    expect(byPath('/success')[0]?.body).toMatchObject({
      agreement_id: agreementId,
      status: 'Accepted',
      status_code: 0,
    });
    expect(byPath('/cancel')[0]?.body).toMatchObject({ status: 'Canceled', status_code: 40003 });
    expect(byPath('/refund')[0]?.body).toMatchObject({ status: 'Issued', status_code: 0, amount: '3.50' });
    const items = byPath('/payments').flatMap((r) => r.body as Record<string, unknown>[]);
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          payment_id: o2.body.id,
          status: 'Reserved',
          status_code: 0,
          payment_type: 'OneOff',
          amount: '19.45',
        }),
        expect.objectContaining({ payment_id: p2?.payment_id, status: 'Declined', status_code: 50002 }),
        expect.objectContaining({
          payment_id: p1?.payment_id,
          status: 'Executed',
          status_code: 0,
          amount: '10.99',
        }),
      ]),
    );
    expect(byPath('/payments')[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('cb:pw').toString('base64')}`,
    );
    const refunds = await mp.call('GET', `{p}/agreements/${agreementId}/payments/${p1?.payment_id}/refunds`);
    expect(refunds.body[0]).toMatchObject({ amount: 3.5, status: 'Issued', externalId: 'R1' });
  });
});
