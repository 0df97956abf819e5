import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
let op: string;
beforeAll(async () => {
  t = await startTestApp({ env: { PAYLOOM_BODY_LIMIT_BYTES: '2048' } });
  op = t.demo.operator.apiKey;
});
afterAll(async () => t.close());

function expectProblem(
  res: { status: number; headers: Record<string, unknown>; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(res.status).toBe(status);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code });
  expect(res.body.request_id).toMatch(/^req_/);
  expect(res.body.request_id).toBe(res.headers['x-request-id']);
}

describe('bad input never breaks anything', () => {
  it('malformed JSON is 400 invalid_json', async () => {
    const res = await t.request('POST', '/v1/merchants', {
      key: op,
      payload: '{"name": "x",',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 400, 'invalid_json');
  });

  it('an empty body with a JSON content type on a route with required fields names the field', async () => {
    const res = await t.request('POST', '/v1/merchants', {
      key: op,
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.status).toBe(400);
  });

  it('a non-JSON content type is 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await t.request('POST', '/v1/merchants', {
        key: op,
        payload: 'name=x',
        headers: { 'content-type': type },
      });
      expectProblem(res, 415, 'unsupported_media_type');
    }
  });

  it('a body over the limit is 413', async () => {
    const res = await t.request('POST', '/v1/merchants', { key: op, body: { name: 'x'.repeat(5000) } });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('unknown or ill-typed fields are 400 naming the field', async () => {
    const unknown = await t.request('POST', '/v1/merchants', { key: op, body: { name: 'A', colour: 'red' } });
    expectProblem(unknown, 400, 'validation_failed');
    expect(unknown.body.param).toBe('/colour');
    const illTyped = await t.request('POST', '/v1/merchants', { key: op, body: { name: 42 } });
    expectProblem(illTyped, 400, 'validation_failed');
    expect(illTyped.body.param).toBe('/name');
    const missing = await t.request('POST', '/v1/merchants', { key: op, body: {} });
    expect(missing.body.param).toBe('/name');
    expect(missing.body.errors[0]).toEqual({ field: '/name', message: 'is required' });
    const array = await t.request('POST', '/v1/merchants', { key: op, body: [1, 2] });
    expectProblem(array, 400, 'validation_failed');
  });

  it('missing or invalid credentials are 401', async () => {
    expectProblem(await t.request('GET', '/v1/merchants'), 401, 'unauthenticated');
    expectProblem(await t.request('GET', '/v1/merchants', { key: 'pl_op_wrong' }), 401, 'unauthenticated');
    expectProblem(await t.request('GET', '/v1/merchant', { key: 'pl_test_wrong' }), 401, 'unauthenticated');
    expectProblem(
      await t.request('GET', '/v1/merchant', { headers: { authorization: `Basic ${t.demo.native.apiKey}` } }),
      401,
      'unauthenticated',
    );
  });

  it('unknown routes are 404 in the same format', async () => {
    expectProblem(await t.request('GET', '/v1/nothing-here'), 404, 'not_found');
  });

  it('an unexpected error is 500 with a request id and leaves no partial write; the key may be retried', async () => {
    const db = t.database.handle.db;
    // Make the second insert of merchant creation fail, after the merchant row was written.
    await sql`CREATE FUNCTION test_fail_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT name FROM merchants WHERE id = NEW.merchant_id) = 'explode' THEN
          RAISE EXCEPTION 'simulated failure';
        END IF;
        RETURN NEW;
      END $$`.execute(db);
    await sql`CREATE TRIGGER test_fail_credentials BEFORE INSERT ON credentials
      FOR EACH ROW EXECUTE FUNCTION test_fail_credentials()`.execute(db);
    try {
      const res = await t.request('POST', '/v1/merchants', {
        key: op,
        idempotencyKey: 'boom',
        body: { name: 'explode' },
      });
      expectProblem(res, 500, 'internal_error');
      expect(res.text).not.toContain('simulated failure');
      const rows = await db.selectFrom('merchants').select('id').where('name', '=', 'explode').execute();
      expect(rows).toHaveLength(0);
      const audit = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('request_id', '=', res.body.request_id)
        .execute();
      expect(audit).toMatchObject([{ outcome: 'failure', status_code: 500 }]);
    } finally {
      await sql`DROP TRIGGER test_fail_credentials ON credentials`.execute(db);
    }
    const retry = await t.request('POST', '/v1/merchants', {
      key: op,
      idempotencyKey: 'boom',
      body: { name: 'explode' },
    });
    expect(retry.status).toBe(201);
  });
});

describe('rate limits', () => {
  it('each credential gets its own limit; over it is 429 with Retry-After', async () => {
    const limited = await startTestApp({ env: { PAYLOOM_RATE_LIMIT_SANDBOX_PER_SECOND: '3' } });
    try {
      const a = await limited.createMerchant();
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 6; i++) {
        last = await limited.request('GET', '/v1/merchant', { key: a.sandboxKey });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.at(-1)).toBe(429);
      expect(last?.body.code).toBe('rate_limited');
      expect(Number(last?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // Another merchant is not affected.
      const b = await limited.createMerchant();
      expect((await limited.request('GET', '/v1/merchant', { key: b.sandboxKey })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
