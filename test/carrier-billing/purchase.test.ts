import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobRunner } from '../../src/core/jobs/runner.js';
import { jobHandlers } from '../../src/worker.js';
import { startTestApp, type TestApp } from '../harness.js';

interface Cb {
  apiKey: string;
  username: string;
  password: string;
  productId: number;
}

let t: TestApp;
let cb: Cb;
let receiver: Server;
const callbacks: URL[] = [];

beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_ALLOW_PRIVATE_CALLBACKS: 'true' } });
  cb = t.demo.carrierBilling as Cb;
  receiver = createServer((req, res) => {
    callbacks.push(new URL(req.url ?? '/', 'http://receiver'));
    res.writeHead(200).end('OK');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await t.close();
});

/** An Infomedia call as a merchant's integration makes it. */
async function dcb(
  method: string,
  body: Record<string, unknown>,
  options: { path?: string; key?: string } = {},
) {
  return t.request('POST', `${options.path ?? '/dcbsb'}/${method}`, {
    headers: { 'x-infomedia-api-key': options.key ?? cb.apiKey, 'cache-control': 'no-cache' },
    body: { u: cb.username, p: cb.password, ...body },
  });
}

async function pinFor(msisdn: string, amount = '1.50') {
  const res = await dcb('PINGenerateWithParams', {
    mx: msisdn,
    productId: cb.productId,
    params: [
      { key: 'amount', value: amount },
      { key: 'description', value: 'Game credits' },
      { key: 'language', value: 'en' },
    ],
  });
  expect(res.body).toMatchObject({ status: 'Success', description: '00 - Everything was OK' });
  const inbox = await t.request('GET', `/v1/sandbox/sms?to=${msisdn}&limit=1`, { key: t.demo.native.apiKey });
  const sms = inbox.body.data[0];
  expect(sms).toMatchObject({ purpose: 'pin', pin_id: res.body.pinId });
  return { pinId: res.body.pinId as string, code: sms.code as string, text: sms.text as string };
}

async function runJobs(until: () => boolean) {
  const runner = startJobRunner(t.database.handle.db, jobHandlers(t.services), {
    info: () => undefined,
    error: () => undefined,
  });
  try {
    for (let i = 0; i < 500 && !until(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await runner.stop();
  }
}

describe('carrier billing: the seed flow (PIN SMS, bill, confirmation, callback, refunds)', () => {
  it('walks the one-time purchase end to end', async () => {
    const settings = await t.request('PUT', '/v1/carrier-billing/settings', {
      key: t.demo.native.apiKey,
      body: {
        webhook_url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/dcb-callback`,
        support_contact: 'help@demo.test',
      },
    });
    expect(settings.status).toBe(200);

    const msisdn = '447700900123';
    const { pinId, code, text } = await pinFor(msisdn);
    expect(code).toMatch(/^\d{6}$/);
    expect(text).toContain(code);
    expect(text).toContain('1.50 GBP');
    expect(text).toContain('help@demo.test');

    const wrong = await dcb('SendBillWithPin', {
      mx: msisdn,
      productId: cb.productId,
      pinId,
      params: [{ key: 'PIN', value: code === '000000' ? '111111' : '000000' }],
    });
    expect(wrong.status).toBe(200);
    expect(wrong.body).toMatchObject({ status: 'Error' });
    expect(wrong.body.description).toMatch(/^10 - PIN is invalid/);
    const before = await t.request('GET', '/v1/payments?product=carrier-billing', {
      key: t.demo.native.apiKey,
    });
    expect(before.body.data).toHaveLength(0);

    const billed = await dcb('SendBillWithPIN', {
      mx: msisdn,
      productId: cb.productId,
      pinId,
      pt: 'order-77',
      params: [{ key: 'PIN', value: code }],
    });
    expect(billed.body).toMatchObject({
      status: 'Success',
      mx: msisdn,
      pinId,
      conf: { status: 'Success', portedMcc: '', portedMnc: '' },
    });
    const txid = billed.body.txid as string;
    expect(txid).toMatch(/^[0-9a-f-]{36}$/);
    const again = await dcb('SendBillWithPin', {
      mx: msisdn,
      productId: cb.productId,
      pinId,
      params: [{ key: 'PIN', value: code }],
    });
    expect(again.body.description).toMatch(/^12 - /);

    const payments = await t.request('GET', '/v1/payments?product=carrier-billing', {
      key: t.demo.native.apiKey,
    });
    expect(payments.body.data).toHaveLength(1);
    expect(payments.body.data[0]).toMatchObject({
      status: 'succeeded',
      amount_minor: 150,
      currency: 'GBP',
      reference: txid,
      payer_ref: msisdn,
    });

    const confirmation = await t.request('GET', `/v1/sandbox/sms?to=${msisdn}&limit=1`, {
      key: t.demo.native.apiKey,
    });
    expect(confirmation.body.data[0]).toMatchObject({ purpose: 'payment_confirmation' });
    expect(confirmation.body.data[0].text).toContain('1.50 GBP');

    await runJobs(() => callbacks.some((c) => c.searchParams.get('txid') === txid));
    const callback = callbacks.find((c) => c.searchParams.get('txid') === txid);
    expect(callback?.pathname).toBe('/dcb-callback');
    expect(Object.fromEntries(callback?.searchParams ?? [])).toMatchObject({
      etid: '5',
      success: '1',
      chargeAmount: '1.50',
      currencyCode: 'GBP',
      productid: String(cb.productId),
      transactionStatus: '00',
      pt: 'order-77',
      productDescription: 'Game credits',
    });
    const mx = callback?.searchParams.get('mx') ?? '';
    expect(mx).not.toContain(msisdn);
    const decrypted = await dcb('DecryptMX', { mx });
    expect(decrypted.body).toMatchObject({ status: 'Success', msisdn });

    const partial = await dcb('Refund', { txid, params: [{ key: 'amount', value: '0.50' }] });
    expect(partial.body).toMatchObject({ status: 'Success', txid, refundAmount: '0.50' });
    const tooMuch = await dcb('Refund', { txid, params: [{ key: 'amount', value: '1.01' }] });
    expect(tooMuch.body.description).toMatch(/^21 - /);
    const rest = await dcb('Refund', { txid });
    expect(rest.body).toMatchObject({ status: 'Success', refundAmount: '1.00' });
    const none = await dcb('Refund', { txid, params: [{ key: 'amount', value: '0.01' }] });
    expect(none.body.description).toMatch(/^21 - /);
    const lookup = await dcb('GetTransaction', { txid });
    expect(lookup.body).toMatchObject({
      status: 'Success',
      state: 'succeeded',
      amount: '1.50',
      refundedAmount: '1.50',
    });
    expect(lookup.body.refunds).toHaveLength(2);

    await runJobs(() => callbacks.filter((c) => c.searchParams.get('etid') === '6').length >= 2);
    const refundCallbacks = callbacks.filter((c) => c.searchParams.get('etid') === '6');
    expect(refundCallbacks.map((c) => c.searchParams.get('chargeAmount')).sort()).toEqual(['0.50', '1.00']);
  });

  it('refunds are refused on a carrier that does not support them', async () => {
    const msisdn = '447700901234';
    const { pinId, code } = await pinFor(msisdn, '2.00');
    const billed = await dcb('SendBillWithPin', {
      mx: msisdn,
      productId: cb.productId,
      pinId,
      params: [{ key: 'PIN', value: code }],
    });
    expect(billed.body.status).toBe('Success');
    const refund = await dcb('Refund', { txid: billed.body.txid });
    expect(refund.body.description).toMatch(/^20 - /);
  });

  it('a declined bill passes the carrier code through and takes no money', async () => {
    const msisdn = '447700900001';
    const { pinId, code } = await pinFor(msisdn);
    const billed = await dcb('SendBillWithPin', {
      mx: msisdn,
      productId: cb.productId,
      pinId,
      params: [{ key: 'PIN', value: code }],
    });
    expect(billed.body).toMatchObject({ status: 'Error', conf: { status: 'Error' } });
    expect(billed.body.description).toMatch(/^AA - Insufficient credit/);
    const lookup = await dcb('GetTransaction', { txid: billed.body.txid });
    expect(lookup.body).toMatchObject({ state: 'failed', transactionStatus: 'AA' });
  });

  it('a carrier timeout answers pending; the payment is unknown until reconciliation', async () => {
    const msisdn = '447700900004';
    const { pinId, code } = await pinFor(msisdn);
    const billed = await dcb('SendBillWithPin', {
      mx: msisdn,
      productId: cb.productId,
      pinId,
      params: [{ key: 'PIN', value: code }],
    });
    expect(billed.body.description).toMatch(/^30 - /);
    const lookup = await dcb('GetTransaction', { txid: billed.body.txid });
    expect(lookup.body.state).toBe('pending');
  });

  it('the flat body public .NET clients send (bpid, amount as a number, pin at the top level) works', async () => {
    const msisdn = '447700900321';
    const { code } = await pinFor(msisdn, '1.00');
    const res = await dcb('SendBillWithPin', {
      bpid: cb.productId,
      pt: 'x',
      mx: msisdn,
      mnc: 10,
      mcc: 234,
      amount: 1.0,
      itemDescription: 'Game credits',
      pin: code,
    });
    expect(res.body).toMatchObject({ status: 'Success' });
  });
});

describe('carrier billing: authentication and dialect rules', () => {
  it('needs the API key, u and p; a sandbox key on /dcb is refused; methods ignore case', async () => {
    const noKey = await t.request('POST', '/dcbsb/GetTransaction', {
      body: { u: cb.username, p: cb.password, txid: 'x' },
    });
    expect(noKey.status).toBe(401);
    expect(noKey.body.description).toMatch(/^03 - /);
    const wrongPassword = await t.request('POST', '/dcbsb/GetTransaction', {
      headers: { 'x-infomedia-api-key': cb.apiKey },
      body: { u: cb.username, p: 'nope', txid: 'x' },
    });
    expect(wrongPassword.status).toBe(401);
    const production = await dcb('GetTransaction', { txid: 'x' }, { path: '/dcb' });
    expect(production.status).toBe(401);
    const lower = await dcb('gettransaction', { txid: '00000000-0000-0000-0000-000000000000' });
    expect(lower.body.description).toMatch(/^22 - /);
    const unknown = await dcb('DoSomething', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.description).toMatch(/^07 - /);
  });

  it('bad input gets an Error with a documented code and nothing is charged or sent', async () => {
    const base = { mx: '447700900555', productId: cb.productId };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...base, params: [{ key: 'amount', value: 'abc' }] }, /^02 - /],
      [{ ...base, params: [{ key: 'amount', value: '1.505' }] }, /^02 - /],
      [{ ...base, params: [{ key: 'amount', value: '-1' }] }, /^02 - /],
      [{ ...base, params: [{ key: 'amount', value: '0' }] }, /^02 - /],
      [
        {
          ...base,
          params: [
            { key: 'amount', value: '1.00' },
            { key: 'currency', value: 'XYZ' },
          ],
        },
        /^02 - /,
      ],
      [
        {
          ...base,
          params: [
            { key: 'amount', value: '1.00' },
            { key: 'currency', value: 'EUR' },
          ],
        },
        /^05 - /,
      ],
      [{ ...base, params: [] }, /^02 - /],
      [{ ...base, mx: 'not-a-number', params: [{ key: 'amount', value: '1.00' }] }, /^02 - /],
      [{ ...base, mx: '12', params: [{ key: 'amount', value: '1.00' }] }, /^02 - /],
      [{ ...base, mx: '491701234567', params: [{ key: 'amount', value: '1.00' }] }, /^04 - /],
      [{ ...base, productId: 1, params: [{ key: 'amount', value: '1.00' }] }, /^06 - /],
      [
        {
          ...base,
          params: [
            { key: 'amount', value: '1.00' },
            { key: 'description', value: 'x'.repeat(600) },
          ],
        },
        /^02 - /,
      ],
      [{ ...base, params: [{ key: 'amount', value: { nested: true } }] }, /^02 - /],
      [{ ...base, params: 'amount=1' }, /^02 - /],
      [{ ...base, params: [{ key: 'amount', value: '300.00' }] }, /^A8 - /],
    ];
    for (const [body, expected] of cases) {
      const res = await dcb('PinGenerateWithParams', body);
      expect(res.body.status, JSON.stringify(body)).toBe('Error');
      expect(res.body.description, JSON.stringify(body)).toMatch(expected);
    }
    const inbox = await t.request('GET', '/v1/sandbox/sms?to=447700900555', { key: t.demo.native.apiKey });
    expect(inbox.body.data).toHaveLength(0);
    const malformed = await t.request('POST', '/dcbsb/PinGenerateWithParams', {
      headers: { 'x-infomedia-api-key': cb.apiKey, 'content-type': 'application/json' },
      payload: '{"u": "x",',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.status).toBe('Error');
  });
});
