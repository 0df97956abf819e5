import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxCarrierIds } from '../../src/products/carrier-billing/carriers.js';
import { startTestApp, type TestApp } from '../harness.js';

// Needs carrierRoutes (src/products/carrier-billing/carrier-routes.ts) registered on the app.
let t: TestApp;
let operator: string;
beforeAll(async () => {
  t = await startTestApp();
  operator = t.demo.operator.apiKey;
});
afterAll(async () => t.close());

const carrierBody = (mnc: string, overrides: Record<string, unknown> = {}) => ({
  environment: 'production',
  name: `Etisalat ${mnc}`,
  country: 'AE',
  mcc: '424',
  mnc,
  currency: 'AED',
  connector_id: 'carrier-simulator',
  per_transaction_max_minor: 10_000,
  daily_max_minor: 50_000,
  monthly_max_minor: 200_000,
  ...overrides,
});

describe('GET /v1/carriers', () => {
  it('lists the seeded sandbox carriers for operators, filtered by environment', async () => {
    const res = await t.request('GET', '/v1/carriers?environment=sandbox', { key: operator });
    expect(res.status).toBe(200);
    const ids = res.body.data.map((c: { id: string }) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining([sandboxCarrierIds.ukWithRefunds, sandboxCarrierIds.ukWithoutRefunds]),
    );
    const refunds = res.body.data.find((c: { id: string }) => c.id === sandboxCarrierIds.ukWithRefunds);
    expect(refunds).toEqual({
      id: 'car_sandbox_uk_refunds',
      object: 'carrier',
      environment: 'sandbox',
      name: 'Sandbox UK (refunds)',
      country: 'GB',
      mcc: '234',
      mnc: '10',
      number_ranges: ['447700900'],
      currency: 'GBP',
      refunds_supported: true,
      partial_refunds_supported: true,
      confirmation_sms_required: true,
      pin_length: 6,
      per_transaction_max_minor: 24_000,
      daily_max_minor: 100_000,
      monthly_max_minor: 500_000,
      connector_id: 'carrier-simulator',
      connector_config: {},
      enabled: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const production = await t.request('GET', '/v1/carriers?environment=production&enabled=true', {
      key: operator,
    });
    expect(production.status).toBe(200);
    expect(production.body.data.every((c: { environment: string }) => c.environment === 'production')).toBe(
      true,
    );
  });

  it('pages with limit and starting_after', async () => {
    const first = await t.request('GET', '/v1/carriers?environment=sandbox&limit=1', { key: operator });
    expect(first.body).toMatchObject({ has_more: true, next_cursor: first.body.data[0].id });
    const second = await t.request(
      'GET',
      `/v1/carriers?environment=sandbox&limit=1&starting_after=${first.body.next_cursor}`,
      { key: operator },
    );
    expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
    const bad = await t.request('GET', '/v1/carriers?limit=1000', { key: operator });
    expect(bad.status).toBe(400);
  });

  it('is for operators only', async () => {
    expect((await t.request('GET', '/v1/carriers')).status).toBe(401);
    const merchant = await t.request('GET', '/v1/carriers', { key: t.demo.native.apiKey });
    expect(merchant.status).toBe(403);
    expect(merchant.body.code).toBe('forbidden');
    const write = await t.request('POST', '/v1/carriers', {
      key: t.demo.native.apiKey,
      body: carrierBody('01'),
    });
    expect(write.status).toBe(403);
    const patch = await t.request('PATCH', `/v1/carriers/${sandboxCarrierIds.ukWithRefunds}`, {
      key: t.demo.native.apiKey,
      body: { daily_max_minor: 1 },
    });
    expect(patch.status).toBe(403);
    const port = await t.request('POST', `/v1/carriers/${sandboxCarrierIds.ukWithRefunds}/ported-numbers`, {
      key: t.demo.native.apiKey,
      body: { msisdn: '447700900600' },
    });
    expect(port.status).toBe(403);
  });
});

describe('POST /v1/carriers', () => {
  it('creates a carrier with defaults; GET returns it; the same Idempotency-Key replays', async () => {
    const res = await t.request('POST', '/v1/carriers', {
      key: operator,
      idempotencyKey: 'carrier-create-1',
      body: carrierBody('02', { number_ranges: ['97150', '97156'], currency: 'aed' }),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'carrier',
      environment: 'production',
      currency: 'AED',
      number_ranges: ['97150', '97156'],
      refunds_supported: false,
      partial_refunds_supported: false,
      confirmation_sms_required: true,
      pin_length: 6,
      per_transaction_max_minor: 10_000,
      connector_config: {},
      enabled: true,
    });
    expect(res.body.id).toMatch(/^car_[0-9A-Z]{26}$/);
    const again = await t.request('POST', '/v1/carriers', {
      key: operator,
      idempotencyKey: 'carrier-create-1',
      body: carrierBody('02', { number_ranges: ['97150', '97156'], currency: 'aed' }),
    });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(res.body.id);
    const got = await t.request('GET', `/v1/carriers/${res.body.id}`, { key: operator });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('409 for a second carrier with the same MCC/MNC in the environment, or an enabled range taken', async () => {
    await t.request('POST', '/v1/carriers', {
      key: operator,
      body: carrierBody('03', { number_ranges: ['97152'] }),
    });
    const duplicate = await t.request('POST', '/v1/carriers', { key: operator, body: carrierBody('03') });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 'conflict', param: '/mnc' });
    const sandbox = await t.request('POST', '/v1/carriers', {
      key: operator,
      body: carrierBody('03', { environment: 'sandbox' }),
    });
    expect(sandbox.status).toBe(201);
    const range = await t.request('POST', '/v1/carriers', {
      key: operator,
      body: carrierBody('04', { number_ranges: ['97152'] }),
    });
    expect(range.status).toBe(409);
    expect(range.body.param).toBe('/number_ranges');
  });

  it('400 naming the field for every broken rule', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ colour: 'red' }, '/colour', 'validation_failed'],
      [{ environment: 'staging' }, '/environment', 'validation_failed'],
      [{ mcc: '42' }, '/mcc', 'validation_failed'],
      [{ mnc: '1234' }, '/mnc', 'validation_failed'],
      [{ country: 'ae' }, '/country', 'validation_failed'],
      [{ country: 'XX' }, '/country', 'validation_failed'],
      [{ number_ranges: ['4477'] }, '/number_ranges', 'validation_failed'],
      [{ number_ranges: ['97a'] }, '/number_ranges/0', 'validation_failed'],
      [{ currency: 'ZZZ' }, '/currency', 'invalid_currency'],
      [{ connector_id: 'infomedia-dcb' }, '/connector_id', 'validation_failed'],
      [{ connector_config: [] }, '/connector_config', 'validation_failed'],
      [{ connector_config: 'x' }, '/connector_config', 'validation_failed'],
      [{ per_transaction_max_minor: 0 }, '/per_transaction_max_minor', 'validation_failed'],
      [{ per_transaction_max_minor: 10.5 }, '/per_transaction_max_minor', 'validation_failed'],
      [{ per_transaction_max_minor: '100' }, '/per_transaction_max_minor', 'validation_failed'],
      [{ daily_max_minor: 9_999 }, '/daily_max_minor', 'validation_failed'],
      [{ monthly_max_minor: 49_999 }, '/monthly_max_minor', 'validation_failed'],
      [{ partial_refunds_supported: true }, '/partial_refunds_supported', 'validation_failed'],
      [{ pin_length: 3 }, '/pin_length', 'validation_failed'],
      [{ pin_length: 9 }, '/pin_length', 'validation_failed'],
      [{ name: '' }, '/name', 'validation_failed'],
      [{ name: 'x'.repeat(201) }, '/name', 'validation_failed'],
    ];
    for (const [overrides, param, code] of cases) {
      const res = await t.request('POST', '/v1/carriers', {
        key: operator,
        body: carrierBody('05', overrides),
      });
      expect(
        { status: res.status, param: res.body.param, code: res.body.code },
        JSON.stringify(overrides),
      ).toEqual({
        status: 400,
        param,
        code,
      });
    }
    const { mcc: _mcc, ...missing } = carrierBody('05');
    const res = await t.request('POST', '/v1/carriers', { key: operator, body: missing });
    expect(res.status).toBe(400);
    expect(res.body.param).toBe('/mcc');
  });
});

describe('PATCH /v1/carriers/{id}', () => {
  it('raises limits, disables and changes any field but id and environment', async () => {
    const created = await t.request('POST', '/v1/carriers', { key: operator, body: carrierBody('10') });
    const id = created.body.id as string;
    const raised = await t.request('PATCH', `/v1/carriers/${id}`, {
      key: operator,
      body: {
        per_transaction_max_minor: 20_000,
        daily_max_minor: 100_000,
        monthly_max_minor: 1_000_000,
        refunds_supported: true,
        partial_refunds_supported: true,
        confirmation_sms_required: false,
        pin_length: 4,
        connector_config: { region: 'ae' },
        number_ranges: ['97154'],
        name: 'Etisalat UAE',
        enabled: false,
      },
    });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({
      id,
      environment: 'production',
      name: 'Etisalat UAE',
      per_transaction_max_minor: 20_000,
      daily_max_minor: 100_000,
      monthly_max_minor: 1_000_000,
      refunds_supported: true,
      partial_refunds_supported: true,
      confirmation_sms_required: false,
      pin_length: 4,
      connector_config: { region: 'ae' },
      number_ranges: ['97154'],
      enabled: false,
    });
    const env = await t.request('PATCH', `/v1/carriers/${id}`, {
      key: operator,
      body: { environment: 'sandbox' },
    });
    expect(env.status).toBe(400);
    expect(env.body.param).toBe('/environment');
    const idChange = await t.request('PATCH', `/v1/carriers/${id}`, { key: operator, body: { id: 'car_x' } });
    expect(idChange.status).toBe(400);
    // The merged record must hold: partial refunds need refunds, daily >= per transaction.
    const partial = await t.request('PATCH', `/v1/carriers/${id}`, {
      key: operator,
      body: { refunds_supported: false },
    });
    expect(partial.status).toBe(400);
    expect(partial.body.param).toBe('/partial_refunds_supported');
    const over = await t.request('PATCH', `/v1/carriers/${id}`, {
      key: operator,
      body: { per_transaction_max_minor: 200_000 },
    });
    expect(over.status).toBe(400);
    expect(over.body.param).toBe('/daily_max_minor');
    const unchanged = await t.request('GET', `/v1/carriers/${id}`, { key: operator });
    expect(unchanged.body).toEqual(raised.body);
    const empty = await t.request('PATCH', `/v1/carriers/${id}`, { key: operator, body: {} });
    expect(empty.status).toBe(200);
    expect(empty.body.per_transaction_max_minor).toBe(20_000);
  });

  it('409 when moving onto another carrier’s MCC/MNC; 404 for unknown ids', async () => {
    const a = await t.request('POST', '/v1/carriers', { key: operator, body: carrierBody('11') });
    await t.request('POST', '/v1/carriers', { key: operator, body: carrierBody('12') });
    const clash = await t.request('PATCH', `/v1/carriers/${a.body.id}`, {
      key: operator,
      body: { mnc: '12' },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('conflict');
    const unknown = await t.request('PATCH', '/v1/carriers/car_nope', {
      key: operator,
      body: { enabled: false },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
    expect((await t.request('GET', '/v1/carriers/car_nope', { key: operator })).status).toBe(404);
  });

  it('writes are audited with the carrier id', async () => {
    const created = await t.request('POST', '/v1/carriers', { key: operator, body: carrierBody('13') });
    await t.request('PATCH', `/v1/carriers/${created.body.id}`, { key: operator, body: { enabled: false } });
    const rows = await t.database.handle.db
      .selectFrom('audit_log')
      .select(['action', 'target_id', 'outcome', 'actor_type'])
      .where('target_id', '=', created.body.id)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { action: 'POST /v1/carriers', target_id: created.body.id, outcome: 'success', actor_type: 'operator' },
      {
        action: 'PATCH /v1/carriers/:id',
        target_id: created.body.id,
        outcome: 'success',
        actor_type: 'operator',
      },
    ]);
  });
});

describe('ported numbers', () => {
  const base = `/v1/carriers/${sandboxCarrierIds.ukWithoutRefunds}/ported-numbers`;

  it('lists the seeded ported numbers of the no-refunds sandbox carrier', async () => {
    const res = await t.request('GET', `${base}?limit=100`, { key: operator });
    expect(res.status).toBe(200);
    expect(res.body.data.map((p: { msisdn: string }) => p.msisdn)).toEqual(
      Array.from({ length: 10 }, (_, i) => `44770090050${i}`),
    );
    expect(res.body.data[0]).toEqual({
      msisdn: '447700900500',
      carrier_id: sandboxCarrierIds.ukWithoutRefunds,
      environment: 'sandbox',
      created_at: expect.any(String),
    });
    const page = await t.request('GET', `${base}?limit=3&starting_after=447700900502`, { key: operator });
    expect(page.body.data.map((p: { msisdn: string }) => p.msisdn)).toEqual([
      '447700900503',
      '447700900504',
      '447700900505',
    ]);
    expect(page.body.has_more).toBe(true);
  });

  it('adds a number (normalised), moves it between carriers and removes it', async () => {
    const added = await t.request('POST', base, { key: operator, body: { msisdn: '+447700900777' } });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      msisdn: '447700900777',
      carrier_id: sandboxCarrierIds.ukWithoutRefunds,
      environment: 'sandbox',
    });
    const moved = await t.request('POST', `/v1/carriers/${sandboxCarrierIds.ukWithRefunds}/ported-numbers`, {
      key: operator,
      body: { msisdn: '447700900777' },
    });
    expect(moved.status).toBe(201);
    expect(moved.body.carrier_id).toBe(sandboxCarrierIds.ukWithRefunds);
    const wrongCarrier = await t.request('DELETE', `${base}/447700900777`, { key: operator });
    expect(wrongCarrier.status).toBe(404);
    const removed = await t.request(
      'DELETE',
      `/v1/carriers/${sandboxCarrierIds.ukWithRefunds}/ported-numbers/447700900777`,
      { key: operator },
    );
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({
      msisdn: '447700900777',
      carrier_id: sandboxCarrierIds.ukWithRefunds,
      deleted: true,
    });
    const twice = await t.request(
      'DELETE',
      `/v1/carriers/${sandboxCarrierIds.ukWithRefunds}/ported-numbers/447700900777`,
      { key: operator },
    );
    expect(twice.status).toBe(404);
  });

  it('refuses malformed numbers and unknown carriers', async () => {
    for (const msisdn of ['abc', '07700900123', '442071234567', '447700902000']) {
      const res = await t.request('POST', base, { key: operator, body: { msisdn } });
      expect(res.status, msisdn).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_failed', param: '/msisdn' });
    }
    const extra = await t.request('POST', base, {
      key: operator,
      body: { msisdn: '447700900778', note: 'x' },
    });
    expect(extra.status).toBe(400);
    const unknown = await t.request('POST', '/v1/carriers/car_nope/ported-numbers', {
      key: operator,
      body: { msisdn: '447700900778' },
    });
    expect(unknown.status).toBe(404);
    expect((await t.request('GET', '/v1/carriers/car_nope/ported-numbers', { key: operator })).status).toBe(
      404,
    );
    const badDelete = await t.request('DELETE', `${base}/not-a-number`, { key: operator });
    expect(badDelete.status).toBe(400);
  });
});
