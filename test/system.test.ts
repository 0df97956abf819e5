import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../src/http/app.js';
import { startTestApp, type TestApp } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

describe('operations endpoints', () => {
  it('healthz and readyz answer; readyz checks migrations', async () => {
    expect((await t.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await t.request('GET', '/readyz')).body).toEqual({ status: 'ready' });
    await t.database.handle.db.deleteFrom('schema_migrations').execute();
    const notReady = await t.request('GET', '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.reason).toBe('migrations pending');
  });

  it('metrics count requests by route template and status, and show the DB pool', async () => {
    await t.request('GET', `/v1/merchants/${t.demo.merchantId}`, { key: t.demo.operator.apiKey });
    await t.request('GET', '/v1/merchants/mer_missing', { key: t.demo.operator.apiKey });
    const res = await t.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(
      /payloom_http_requests_total\{method="GET",route="\/v1\/merchants\/:id",status_code="200"\} 1/,
    );
    expect(res.text).toMatch(
      /payloom_http_requests_total\{method="GET",route="\/v1\/merchants\/:id",status_code="404"\} 1/,
    );
    expect(res.text).toContain('payloom_http_request_duration_seconds_bucket');
    expect(res.text).toMatch(/payloom_db_pool_connections \d+/);
  });

  it('the OpenAPI 3.1 document covers every route, and the docs UI is served', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const documented = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(methods))
        documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
    const routes = registeredRoutes(t.app).filter((r) => !r.startsWith('hidden:') && !r.startsWith('HEAD '));
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((route) => !documented.has(route))).toEqual([]);
    expect(documented.has('POST /v1/merchants')).toBe(true);
    const docs = await t.request('GET', '/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger');
  });

  it('every response carries a request id', async () => {
    const res = await t.request('GET', '/healthz');
    expect(res.headers['x-request-id']).toMatch(/^req_/);
  });
});

describe('audit log and logs', () => {
  it('every mutating call is audited with actor, merchant, environment, request id and outcome', async () => {
    const m = await t.createMerchant('Audited');
    const ok = await t.request('POST', '/v1/credentials', { key: m.sandboxKey, body: { dialect: 'native' } });
    const bad = await t.request('POST', '/v1/credentials', { key: m.sandboxKey, body: { dialect: 'fax' } });
    const log = await t.request('GET', `/v1/audit-log?merchant_id=${m.id}`, { key: t.demo.operator.apiKey });
    expect(log.status).toBe(200);
    const byRequest = new Map(log.body.data.map((e: { request_id: string }) => [e.request_id, e]));
    expect(byRequest.get(ok.headers['x-request-id'])).toMatchObject({
      actor_type: 'merchant',
      merchant_id: m.id,
      environment: 'sandbox',
      action: 'POST /v1/credentials',
      target_id: ok.body.id,
      outcome: 'success',
      status_code: 201,
    });
    expect(byRequest.get(bad.headers['x-request-id'])).toMatchObject({
      outcome: 'failure',
      status_code: 400,
    });
    const all = await t.request('GET', '/v1/audit-log?limit=1', { key: t.demo.operator.apiKey });
    const next = await t.request('GET', `/v1/audit-log?limit=1&starting_after=${all.body.next_cursor}`, {
      key: t.demo.operator.apiKey,
    });
    expect(Number(next.body.data[0].id)).toBeLessThan(Number(all.body.data[0].id));
    const forbidden = await t.request('GET', '/v1/audit-log', { key: m.sandboxKey });
    expect(forbidden.status).toBe(403);
  });

  it('logs are structured JSON with request ids, and never contain secrets', async () => {
    const created = await t.request('POST', '/v1/merchants', {
      key: t.demo.operator.apiKey,
      body: { name: 'Logged' },
    });
    const secrets = created.body.credentials.map((c: { secret: string }) => c.secret);
    for (const secret of secrets) await t.request('GET', '/v1/merchant', { key: secret });
    await t.request('GET', '/v1/merchant', { key: 'pl_test_this_is_a_wrong_key_0000' });
    expect(t.logs.length).toBeGreaterThan(0);
    const parsed = t.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.some((l) => typeof l.reqId === 'string' && String(l.reqId).startsWith('req_'))).toBe(true);
    const all = t.logs.join('\n');
    for (const secret of [
      ...secrets,
      t.demo.operator.apiKey,
      t.demo.native.apiKey,
      'pl_test_this_is_a_wrong_key_0000',
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
