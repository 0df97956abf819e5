import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { agr } from '../../src/products/agreements/schema.js';
import { agreementBody, MobilePayClient, type AgrDemo } from './helpers.js';

let t: TestApp;
let mp: MobilePayClient;
const r = 'https://merchant.example';

beforeAll(async () => {
  t = await startTestApp();
  mp = new MobilePayClient(t, t.demo.agreements as AgrDemo);
  await mp.login();
});
afterAll(async () => t.close());

async function counts() {
  const db = agr(t.database.handle.db);
  const [a, o, p] = await Promise.all([
    db
      .selectFrom('agr_agreements')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('agr_one_offs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('agr_payment_requests')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return [Number(a.n), Number(o.n), Number(p.n)];
}

const links = agreementBody(r).links;
const badAgreements: [string, Record<string, unknown>, string][] = [
  ['currency missing', { currency: undefined }, 'currency'],
  ['currency/country pair', { currency: 'EUR', country_code: 'DK' }, 'currency'],
  ['country unknown', { currency: 'NOK', country_code: 'NO' }, 'currency'],
  ['country missing', { country_code: undefined }, 'country_code'],
  ['plan > 30', { plan: 'x'.repeat(31) }, 'plan'],
  ['plan missing', { plan: undefined }, 'plan'],
  ['description > 60', { description: 'x'.repeat(61) }, 'description'],
  ['external_id > 64', { external_id: 'x'.repeat(65) }, 'external_id'],
  ['frequency 3', { frequency: 3 }, 'frequency'],
  ['expiration 0', { expiration_timeout_minutes: 0 }, 'expiration_timeout_minutes'],
  ['expiration 181441', { expiration_timeout_minutes: 181441 }, 'expiration_timeout_minutes'],
  ['expiration missing', { expiration_timeout_minutes: undefined }, 'expiration_timeout_minutes'],
  ['links missing success-callback', { links: links.filter((l) => l.rel !== 'success-callback') }, 'links'],
  ['links missing user-redirect', { links: links.filter((l) => l.rel !== 'user-redirect') }, 'links'],
  ['links missing cancel-callback', { links: links.filter((l) => l.rel !== 'cancel-callback') }, 'links'],
  ['link not a URL', { links: [...links.slice(1), { rel: 'user-redirect', href: 'nope' }] }, 'links[2].href'],
  ['amount three decimals', { amount: '10.999' }, 'amount'],
  ['amount negative', { amount: -1 }, 'amount'],
  ['amount not a number', { amount: 'ten' }, 'amount'],
  ['retention 25', { retention_period_hours: 25 }, 'retention_period_hours'],
  ['unknown field', { colour: 'red' }, 'colour'],
  [
    'one-off amount 0',
    { one_off_payment: { amount: 0, external_id: 'O', description: 'd' } },
    'one_off_payment.amount',
  ],
  [
    'one-off external_id missing',
    { one_off_payment: { amount: 1, description: 'd' } },
    'one_off_payment.external_id',
  ],
  [
    'one-off description > 60',
    { one_off_payment: { amount: 1, external_id: 'O', description: 'x'.repeat(61) } },
    'one_off_payment.description',
  ],
  [
    'one-off expiration 0',
    { one_off_payment: { amount: 1, external_id: 'O', expiration_timeout_minutes: 0 } },
    'one_off_payment.expiration_timeout_minutes',
  ],
];

describe('agreements: every create constraint answers 400 with the documented error, nothing written', () => {
  it.each(badAgreements)('%s', async (_name, change, field) => {
    const before = await counts();
    const body: Record<string, unknown> = { ...agreementBody(r), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete body[k];
    const res = await mp.call('POST', '{p}/agreements', { body, headers: { CorrelationId: 'c-1' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: 'BadRequest',
      error_description: { error_type: 'InputError', correlation_id: 'c-1' },
    });
    expect(res.body.error_description.message.startsWith(`${field}:`)).toBe(true);
    expect(await counts()).toEqual(before);
  });

  it('accepts amounts as numbers and strings exactly, and EUR/FI', async () => {
    const a = await mp.call('POST', '{p}/agreements', {
      body: { ...agreementBody(r), amount: '1234567.89' },
    });
    expect(a.status).toBe(201);
    expect((await mp.call('GET', `{p}/agreements/${a.body.id}`)).body.amount).toBe(1234567.89);
    const b = await mp.call('POST', '{p}/agreements', {
      body: { ...agreementBody(r), amount: 10, currency: 'EUR', country_code: 'FI' },
    });
    expect(b.status).toBe(201);
    const link = new URL(a.body.links[0].href as string);
    expect(link.searchParams.get('flow')).toBe('agreement');
    expect(link.searchParams.get('id')).toBe(a.body.id);
    expect(link.searchParams.get('redirectUrl')).toBe(`${r}/redirect`);
  });

  it('404 with an empty body for unknown agreements and providers', async () => {
    const res = await mp.call('GET', '{p}/agreements/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.text).toBe('');
    const other = await mp.call('GET', '/providers/00000000-0000-4000-8000-000000000000');
    expect(other.status).toBe(404);
  });

  it('lists with paging: pageNumber is required, pageSize ≤ 2000', async () => {
    expect((await mp.call('GET', '{p}/agreements?pageSize=10')).status).toBe(400);
    expect((await mp.call('GET', '{p}/agreements?pageSize=2001&pageNumber=1')).status).toBe(400);
    const page = await mp.call('GET', '{p}/agreements?pageSize=1&pageNumber=1&status=Pending');
    expect(page.body).toHaveLength(1);
    expect(page.body[0].page_size).toBe(1);
    expect(page.body[0].agreements).toHaveLength(1);
    const page2 = await mp.call('GET', '{p}/agreements?pageSize=1&pageNumber=2&status=Pending');
    expect((await mp.call('GET', '{p}/agreements?pageSize=5&pageNumber=1&status=Active')).status).toBe(200);
    expect((await mp.call('GET', '{p}/agreements?pageSize=5&pageNumber=1&status=Paused')).status).toBe(400);
    expect(page2.body[0].agreements[0].id).not.toBe(page.body[0].agreements[0].id);
  });

  it('PATCH replaces documented fields only; other ops and paths are 405', async () => {
    const a = await mp.call('POST', '{p}/agreements', { body: agreementBody(r) });
    const ok = await mp.call('PATCH', `{p}/agreements/${a.body.id}`, {
      headers: { 'content-type': 'application/json-patch+json' },
      payload: JSON.stringify([
        { op: 'replace', path: '/plan', value: 'Premium' },
        { op: 'replace', path: '/amount', value: '20.50' },
        { op: 'replace', path: '/success-callback', value: `${r}/s2` },
      ]),
    });
    expect(ok.status).toBe(204);
    const got = await mp.call('GET', `{p}/agreements/${a.body.id}`);
    expect(got.body).toMatchObject({ plan: 'Premium', amount: 20.5 });
    expect(got.body.links).toContainEqual({ rel: 'success-callback', href: `${r}/s2` });
    expect(
      (
        await mp.call('PATCH', `{p}/agreements/${a.body.id}`, {
          body: [{ op: 'replace', path: '/currency', value: 'EUR' }],
        })
      ).status,
    ).toBe(405);
    expect(
      (
        await mp.call('PATCH', `{p}/agreements/${a.body.id}`, {
          body: [{ op: 'add', path: '/plan', value: 'x' }],
        })
      ).status,
    ).toBe(405);
    const bad = await mp.call('PATCH', `{p}/agreements/${a.body.id}`, {
      body: [{ op: 'replace', path: '/frequency', value: 5 }],
    });
    expect(bad.status).toBe(400);
    expect((await mp.call('GET', `{p}/agreements/${a.body.id}`)).body.frequency).toBe(12);
  });

  it('payment requests: more than 2000 is 412; shape errors are rejected_payments; async declines get codes', async () => {
    const many = Array.from({ length: 2001 }, (_, i) => ({
      agreement_id: '00000000-0000-4000-8000-000000000000',
      amount: 1,
      due_date: '2030-01-01',
      external_id: `E${i}`,
      description: 'd',
    }));
    const before = await counts();
    const tooMany = await mp.call('POST', '{p}/paymentrequests', { body: many });
    expect(tooMany.status).toBe(412);
    expect(tooMany.body.error).toBe('PreconditionFailed');
    expect(await counts()).toEqual(before);
    const res = await mp.call('POST', '{p}/paymentrequests', {
      body: [
        { agreement_id: 'nope', amount: 1, due_date: '2030-01-01', external_id: 'A', description: 'd' },
        {
          agreement_id: '00000000-0000-4000-8000-000000000000',
          amount: 0,
          due_date: '2030-01-01',
          external_id: 'B',
          description: 'd',
        },
        {
          agreement_id: '00000000-0000-4000-8000-000000000000',
          amount: 1,
          due_date: '2030-02-30',
          external_id: 'C',
          description: 'd',
        },
        {
          agreement_id: '00000000-0000-4000-8000-000000000000',
          amount: 1,
          due_date: '2030-01-01',
          external_id: 'D',
          description: 'x'.repeat(61),
        },
        {
          agreement_id: '00000000-0000-4000-8000-000000000000',
          amount: 1,
          due_date: '2030-01-01',
          external_id: 'E',
          description: 'd',
          grace_period_days: 4,
        },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.pending_payments).toEqual([]);
    expect(
      res.body.rejected_payments.map((x: { error_description: string }) => x.error_description.split(':')[0]),
    ).toEqual(['[0].agreement_id', '[1].amount', '[2].due_date', '[3].description', '[4].grace_period_days']);
  });

  it('refunds use their own camelCase error body', async () => {
    const res = await mp.call(
      'POST',
      '{p}/agreements/00000000-0000-4000-8000-000000000000/payments/00000000-0000-4000-8000-000000000001/refunds',
      { body: {} },
    );
    expect(res.status).toBe(404);
    const a = await mp.call('POST', '{p}/agreements', {
      body: agreementBody(r, { one_off_payment: { amount: 5, external_id: 'O1', description: 'first' } }),
    });
    const bad = await mp.call(
      'POST',
      `{p}/agreements/${a.body.id}/payments/${a.body.one_off_payment_id}/refunds`,
      { body: { amount: 1 } },
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errorText: 'BadRequest', errorDetails: { errorType: 'InputError' } });
    expect(bad.body.errorDetails.message).toMatch(/^status_callback_url:/);
  });

  it('one-off payments: every field rule, and only on active agreements', async () => {
    const pending = await mp.call('POST', '{p}/agreements', { body: agreementBody(r) });
    const onPending = await mp.call('POST', `{p}/agreements/${pending.body.id}/oneoffpayments`, {
      body: { amount: 1, external_id: 'X', description: 'd' },
    });
    expect(onPending.status).toBe(412);
    expect(onPending.body.error_description.error_code).toBe('AgreementNotActive');
    await t.request('POST', `/v1/sandbox/agreements/${pending.body.id}/accept`, {
      key: t.demo.native.apiKey,
    });
    const path = `{p}/agreements/${pending.body.id}/oneoffpayments`;
    const cases: [Record<string, unknown>, string][] = [
      [{ external_id: 'X', description: 'd' }, 'amount'],
      [{ amount: 0, external_id: 'X', description: 'd' }, 'amount'],
      [{ amount: '1.001', external_id: 'X', description: 'd' }, 'amount'],
      [{ amount: 1, description: 'd' }, 'external_id'],
      [{ amount: 1, external_id: 'x'.repeat(65), description: 'd' }, 'external_id'],
      [{ amount: 1, external_id: 'X' }, 'description'],
      [{ amount: 1, external_id: 'X', description: 'x'.repeat(61) }, 'description'],
      [{ amount: 1, external_id: 'X', description: 'd', auto_reserve: 'yes' }, 'auto_reserve'],
      [
        { amount: 1, external_id: 'X', description: 'd', expiration_timeout_minutes: 181441 },
        'expiration_timeout_minutes',
      ],
      [
        {
          amount: 1,
          external_id: 'X',
          description: 'd',
          links: [{ rel: 'success-callback', href: `${r}/x` }],
        },
        'links[0].rel',
      ],
    ];
    const before = await counts();
    for (const [body, field] of cases) {
      const res = await mp.call('POST', path, { body });
      expect(`${res.status} ${String(res.body?.error_description?.message).split(':')[0]}`).toBe(
        `400 ${field}`,
      );
    }
    expect(await counts()).toEqual(before);
  });

  it('malformed JSON is a 400 in the dialect format', async () => {
    const res = await mp.call('POST', '{p}/agreements', {
      headers: { 'content-type': 'application/json' },
      payload: '{"plan":',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('BadRequest');
  });
});
