import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/time/clock.js';
import { startTestApp, type TestApp } from '../harness.js';

interface Cb {
  apiKey: string;
  username: string;
  password: string;
  productId: number;
}

let t: TestApp;
let cb: Cb;
const clock = new ManualClock('2031-06-01T10:00:00Z');

beforeAll(async () => {
  t = await startTestApp({ clock });
  cb = t.demo.carrierBilling as Cb;
});
afterAll(async () => t.close());

async function dcb(method: string, body: Record<string, unknown>) {
  const res = await t.request('POST', `/dcbsb/${method}`, {
    headers: { 'x-infomedia-api-key': cb.apiKey },
    body: { u: cb.username, p: cb.password, productId: cb.productId, ...body },
  });
  return res.body as { status: string; description: string; pinId?: string; txid?: string };
}

async function pin(mx: string, amount = '1.00') {
  const res = await dcb('PinGenerateWithParams', { mx, params: [{ key: 'amount', value: amount }] });
  if (res.status !== 'Success') return { res, pinId: '', code: '' };
  const inbox = await t.request('GET', `/v1/sandbox/sms?to=${mx}&limit=1`, { key: t.demo.native.apiKey });
  return { res, pinId: res.pinId ?? '', code: inbox.body.data[0].code as string };
}

const wrongOf = (code: string) => (code === '000000' ? '111111' : '000000');
const bill = (mx: string, pinId: string, code: string) =>
  dcb('SendBillWithPin', { mx, pinId, params: [{ key: 'PIN', value: code }] });

describe('every response code of the carrier-billing table', () => {
  it('carrier declines pass through: AA, A5, A3, A6, and 01 for a bill that never reached the carrier', async () => {
    for (const [ending, code] of [
      ['001', 'AA'],
      ['002', 'A5'],
      ['009', 'A3'],
      ['007', 'A6'],
      ['005', '01'],
    ]) {
      const mx = `447700900${ending}`;
      const { pinId, code: pinCode } = await pin(mx);
      const res = await bill(mx, pinId, pinCode);
      expect(res.status, ending).toBe('Error');
      expect(res.description.startsWith(`${code} - `), `${ending}: ${res.description}`).toBe(true);
    }
  });

  it('16 unknown pinId, 11 expired after 5 minutes, 13 after 5 wrong PINs even with the right one', async () => {
    expect(
      (
        await dcb('SendBillWithPin', {
          pinId: 'pin_00000000000000000000000000',
          params: [{ key: 'PIN', value: '123456' }],
        })
      ).description,
    ).toMatch(/^16 - /);
    const expiring = await pin('447700900301');
    clock.advanceSeconds(300);
    expect((await bill('447700900301', expiring.pinId, expiring.code)).description).toMatch(/^11 - /);
    const guessed = await pin('447700900302');
    for (let i = 0; i < 5; i++) {
      expect((await bill('447700900302', guessed.pinId, wrongOf(guessed.code))).description).toMatch(
        /^10 - /,
      );
    }
    expect((await bill('447700900302', guessed.pinId, guessed.code)).description).toMatch(/^13 - /);
    const payments = await t.request('GET', '/v1/payments?product=carrier-billing&status=succeeded', {
      key: t.demo.native.apiKey,
    });
    expect(
      payments.body.data.filter((p: { payer_ref: string }) =>
        ['447700900301', '447700900302'].includes(p.payer_ref),
      ),
    ).toHaveLength(0);
  });

  it('14 after 3 PINs in 10 minutes; room again once the window moves', async () => {
    const mx = '447700900303';
    for (let i = 0; i < 3; i++) expect((await pin(mx)).res.status).toBe('Success');
    expect((await pin(mx)).res.description).toMatch(/^14 - /);
    clock.advanceSeconds(601);
    expect((await pin(mx)).res.status).toBe('Success');
  });

  it('15 after 20 wrong PINs in a row: the MSISDN is locked for 30 minutes, for new PINs too', async () => {
    const mx = '447700900304';
    let failures = 0;
    while (failures < 20) {
      const session = await pin(mx);
      expect(session.res.status).toBe('Success');
      for (let i = 0; i < 5 && failures < 20; i++, failures++) {
        const res = await bill(mx, session.pinId, wrongOf(session.code));
        expect(res.description).toMatch(failures === 19 ? /^15 - / : /^10 - /);
      }
      clock.advanceSeconds(601);
    }
    expect((await pin(mx)).res.description).toMatch(/^15 - /);
    clock.advanceSeconds(1800);
    expect((await pin(mx)).res.status).toBe('Success');
  });

  it('08 SendBill until an operator allows it, then it bills without a PIN', async () => {
    const body = { mx: '447700900305', params: [{ key: 'amount', value: '2.00' }] };
    expect((await dcb('SendBill', body)).description).toMatch(/^08 - /);
    const allowed = await t.request('PUT', `/v1/merchants/${t.demo.merchantId}/carrier-billing/send-bill`, {
      key: t.demo.operator.apiKey,
      body: { environment: 'sandbox', allowed: true },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ send_bill_allowed: true });
    expect((await dcb('SendBill', body)).status).toBe('Success');
  });

  it('23 refund of a bill that took no money; A8, A6 and A7 from the carrier spend limits', async () => {
    const declined = await pin('447700900001');
    const failed = await bill('447700900001', declined.pinId, declined.code);
    expect((await dcb('Refund', { txid: failed.txid })).description).toMatch(/^23 - /);

    const patch = (body: Record<string, number>) =>
      t.request('PATCH', '/v1/carriers/car_sandbox_uk_refunds', { key: t.demo.operator.apiKey, body });
    expect(
      (await patch({ per_transaction_max_minor: 500, daily_max_minor: 800, monthly_max_minor: 100_000 }))
        .status,
    ).toBe(200);
    const mx = '447700900306';
    expect((await pin(mx, '6.00')).res.description).toMatch(/^A8 - /);
    const first = await pin(mx, '5.00');
    expect((await bill(mx, first.pinId, first.code)).status).toBe('Success');
    expect((await pin(mx, '4.00')).res.description).toMatch(/^A6 - /);
    // The month's other days count too: the bill moves to the first of the month (on the 1st itself the
    // day and the month are one window, and the daily limit answers first).
    await sql`UPDATE payments SET created_at = date_trunc('month', now()) WHERE payer_ref = ${mx}`.execute(
      t.database.handle.db,
    );
    const firstOfMonth = new Date().getUTCDate() === 1;
    expect((await pin(mx, '4.00')).res.description).toMatch(firstOfMonth ? /^A6 - / : /^00 - /);
    expect((await patch({ daily_max_minor: 800, monthly_max_minor: 800 })).status).toBe(200);
    expect((await pin(mx, '4.00')).res.description).toMatch(firstOfMonth ? /^A6 - / : /^A7 - /);
    expect(
      (
        await patch({
          per_transaction_max_minor: 24_000,
          daily_max_minor: 100_000,
          monthly_max_minor: 500_000,
        })
      ).status,
    ).toBe(200);
  });
});

describe('SMS budget', () => {
  it('17 when the per-number SMS limit is reached: no PIN, nothing sent', async () => {
    const limited = await startTestApp({ env: { PAYLOOM_SMS_PER_MSISDN_PER_DAY: '1' } });
    try {
      const creds = limited.demo.carrierBilling as Cb;
      const call = () =>
        limited.request('POST', '/dcbsb/PinGenerateWithParams', {
          headers: { 'x-infomedia-api-key': creds.apiKey },
          body: {
            u: creds.username,
            p: creds.password,
            productId: creds.productId,
            mx: '447700900307',
            params: [{ key: 'amount', value: '1.00' }],
          },
        });
      expect((await call()).body.status).toBe('Success');
      const second = await call();
      expect(second.body.description).toMatch(/^17 - /);
      const inbox = await limited.request('GET', '/v1/sandbox/sms?to=447700900307', {
        key: limited.demo.native.apiKey,
      });
      expect(inbox.body.data).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });
});

describe('confirmation SMS over the limit', () => {
  it('the bill stands, succeeded and posted; only the confirmation is not sent', async () => {
    const limited = await startTestApp({ env: { PAYLOOM_SMS_PER_MSISDN_PER_DAY: '1' } });
    try {
      const creds = limited.demo.carrierBilling as Cb;
      const mx = '447700900308';
      const call = (method: string, body: Record<string, unknown>) =>
        limited.request('POST', `/dcbsb/${method}`, {
          headers: { 'x-infomedia-api-key': creds.apiKey },
          body: { u: creds.username, p: creds.password, productId: creds.productId, mx, ...body },
        });
      const generated = await call('PinGenerateWithParams', { params: [{ key: 'amount', value: '1.00' }] });
      expect(generated.body.status).toBe('Success');
      const inbox = () =>
        limited.request('GET', `/v1/sandbox/sms?to=${mx}`, { key: limited.demo.native.apiKey });
      const code = (await inbox()).body.data[0].code as string;
      const billed = await call('SendBillWithPin', {
        pinId: generated.body.pinId,
        params: [{ key: 'PIN', value: code }],
      });
      expect(billed.body.status).toBe('Success');
      const messages = (await inbox()).body.data as Array<{ purpose: string }>;
      expect(messages.map((m) => m.purpose)).toEqual(['pin']);
      const payments = await limited.request('GET', '/v1/payments', { key: limited.demo.native.apiKey });
      expect(payments.body.data[0]).toMatchObject({ status: 'succeeded', amount_minor: 100 });
    } finally {
      await limited.close();
    }
  });
});

describe('unexpected failures', () => {
  it('99 with HTTP 500 and a request id when something breaks; nothing is charged or sent', async () => {
    const db = t.database.handle.db;
    await sql`CREATE FUNCTION test_fail_pins() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'simulated failure'; END $$`.execute(db);
    await sql`CREATE TRIGGER test_fail_pins BEFORE INSERT ON pin_sessions FOR EACH ROW EXECUTE FUNCTION test_fail_pins()`.execute(
      db,
    );
    try {
      const res = await t.request('POST', '/dcbsb/PinGenerateWithParams', {
        headers: { 'x-infomedia-api-key': cb.apiKey },
        body: {
          u: cb.username,
          p: cb.password,
          productId: cb.productId,
          mx: '447700900308',
          params: [{ key: 'amount', value: '1.00' }],
        },
      });
      expect(res.status).toBe(500);
      expect(res.body.status).toBe('Error');
      expect(res.body.description).toMatch(/^99 - .*req_/);
      expect(res.text).not.toContain('simulated failure');
    } finally {
      await sql`DROP TRIGGER test_fail_pins ON pin_sessions`.execute(db);
    }
    const inbox = await t.request('GET', '/v1/sandbox/sms?to=447700900308', { key: t.demo.native.apiKey });
    expect(inbox.body.data).toHaveLength(0);
  });
});
