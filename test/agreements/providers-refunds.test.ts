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

async function capturedOneOff(amount: string): Promise<{ agreementId: string; id: string }> {
  const a = await mp.call('POST', '{p}/agreements', {
    body: agreementBody(receiver.url, {
      one_off_payment: { amount, external_id: 'F1', description: 'first' },
    }),
  });
  expect(
    (await t.request('POST', `/v1/sandbox/agreements/${a.body.id}/accept`, { key: t.demo.native.apiKey }))
      .status,
  ).toBe(200);
  expect(
    (await mp.call('POST', `{p}/agreements/${a.body.id}/oneoffpayments/${a.body.one_off_payment_id}/capture`))
      .status,
  ).toBe(204);
  return { agreementId: a.body.id as string, id: a.body.one_off_payment_id as string };
}

describe('agreements: several providers (brands)', () => {
  it('a merchant creates a second provider; merchants/me lists both; objects stay with their provider', async () => {
    const created = await t.request('POST', '/v1/agreements/providers', {
      key: t.demo.native.apiKey,
      body: { name: 'Second Brand', homepage: 'https://second.example' },
    });
    expect(created.status).toBe(201);
    const me = await mp.call('GET', '/merchants/me');
    expect(me.body.SubscriptionProviders.map((p: { Name: string }) => p.Name)).toEqual([
      'Demo Streaming',
      'Second Brand',
    ]);
    const second = `/providers/${created.body.id}`;
    const a = await mp.call('POST', `${second}/agreements`, { body: agreementBody(receiver.url) });
    expect(a.status).toBe(201);
    expect((await mp.call('GET', `${second}/agreements/${a.body.id}`)).status).toBe(200);
    expect((await mp.call('GET', `{p}/agreements/${a.body.id}`)).status).toBe(404);
    // Another merchant's token never sees it.
    const other = await t.createMerchant('Other');
    const otherProviders = await t.request('GET', '/v1/agreements/providers', { key: other.sandboxKey });
    expect(otherProviders.body.data).toEqual([]);
  });
});

describe('agreements: refunds', () => {
  it('several partial refunds up to the captured amount; the one that would exceed it is declined 60002', async () => {
    const { agreementId, id } = await capturedOneOff('10.00');
    const refund = (amount: string | undefined, external: string) =>
      mp.call('POST', `{p}/agreements/${agreementId}/payments/${id}/refunds`, {
        body: {
          ...(amount ? { amount } : {}),
          status_callback_url: `${receiver.url}/refunds/${external}`,
          external_id: external,
        },
      });
    expect((await refund('4.00', 'a')).status).toBe(202);
    expect((await refund('5.00', 'b')).status).toBe(202);
    expect((await refund('1.01', 'c')).status).toBe(202);
    const rest = await refund(undefined, 'd');
    expect(rest.status).toBe(202);
    await runJobs(t, () =>
      ['a', 'b', 'c', 'd'].every((x) => receiver.received.some((r) => r.path === `/refunds/${x}`)),
    );
    const body = (x: string) => receiver.received.find((r) => r.path === `/refunds/${x}`)?.body;
    expect(body('a')).toMatchObject({
      status: 'Issued',
      status_code: 0,
      amount: '4.00',
      payment_id: id,
      agreement_id: agreementId,
    });
    expect(body('b')).toMatchObject({ status: 'Issued', status_code: 0 });
    expect(body('c')).toMatchObject({ status: 'Declined', status_code: 60002 });
    expect(body('d')).toMatchObject({ status: 'Issued', amount: '1.00' });
    const list = await mp.call('GET', `{p}/agreements/${agreementId}/payments/${id}/refunds`);
    expect(list.body.map((r: { status: string; amount: number }) => `${r.status} ${r.amount}`)).toEqual([
      'Issued 4',
      'Issued 5',
      'Declined 1.01',
      'Issued 1',
    ]);
    const payment = await mp.call('GET', `{p}/agreements/${agreementId}/oneoffpayments/${id}`);
    const core = await t.request('GET', `/v1/payments/${payment.body.payment_transaction_id}`, {
      key: t.demo.native.apiKey,
    });
    expect(core.body).toMatchObject({ captured_minor: 1000, refunded_minor: 1000 });
    expect((await refund(undefined, 'e')).status).toBe(202);
    await runJobs(t, () => receiver.received.some((r) => r.path === '/refunds/e'));
    expect(body('e')).toMatchObject({ status: 'Declined', status_code: 60001 });
  });

  it('a refund of a payment that was never captured is declined 60004', async () => {
    const a = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(receiver.url, {
        one_off_payment: { amount: 3, external_id: 'N', description: 'n' },
      }),
    });
    const res = await mp.call(
      'POST',
      `{p}/agreements/${a.body.id}/payments/${a.body.one_off_payment_id}/refunds`,
      { body: { amount: 1, status_callback_url: `${receiver.url}/refunds/never` } },
    );
    expect(res.status).toBe(202);
    await runJobs(t, () => receiver.received.some((r) => r.path === '/refunds/never'));
    expect(receiver.received.find((r) => r.path === '/refunds/never')?.body).toMatchObject({
      status: 'Declined',
    });
  });
});

describe('agreements: attachments', () => {
  it('PUT overwrites, GET returns it, DELETE removes it; URL and PDF are exclusive; other providers are refused', async () => {
    const { id } = await capturedOneOff('2.00');
    const path = `{p}/payments/${id}/attachment`;
    expect((await mp.call('GET', path)).status).toBe(404);
    expect(
      (
        await mp.call('PUT', path, {
          body: { external_attachment_url: 'https://merchant.example/r.pdf', generate_pdf: true },
        })
      ).status,
    ).toBe(400);
    const noTotal = await mp.call('PUT', path, {
      body: { generate_pdf: true, attachment_details: { document_title: 'x' } },
    });
    expect(noTotal.body.error_description.message).toMatch(/^attachment_details.total_amount:/);
    const longTitle = await mp.call('PUT', path, {
      body: { generate_pdf: true, attachment_details: { total_amount: 1, document_title: 'x'.repeat(61) } },
    });
    expect(longTitle.status).toBe(400);
    expect(
      (await mp.call('PUT', path, { body: { external_attachment_url: 'https://merchant.example/r.pdf' } }))
        .status,
    ).toBe(204);
    expect((await mp.call('GET', path)).body).toMatchObject({
      external_attachment_url: 'https://merchant.example/r.pdf',
      generate_pdf: false,
    });
    expect((await mp.call('GET', `${path}/pdf`)).status).toBe(404);
    expect(
      (
        await mp.call('PUT', path, {
          body: {
            generate_pdf: true,
            attachment_details: { total_amount: '2.00', comment: 'Thanks\nfor buying' },
          },
        })
      ).status,
    ).toBe(204);
    expect((await mp.call('GET', path)).body.generate_pdf).toBe(true);
    const second = await t.request('POST', '/v1/agreements/providers', {
      key: t.demo.native.apiKey,
      body: { name: 'Third Brand' },
    });
    const foreign = await mp.call('GET', `/providers/${second.body.id}/payments/${id}/attachment`);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error_description.error_code).toBe('Forbidden');
    expect((await mp.call('DELETE', path)).status).toBe(204);
    expect((await mp.call('GET', path)).status).toBe(404);
  });
});
