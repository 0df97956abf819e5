import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { asUser, signIn, signUp, verifyLatestMail, type Session } from './helpers.js';

let t: TestApp;
let owner: Session;
let operator: Session;

beforeAll(async () => {
  t = await startTestApp();
  owner = await signUp(t, 'owner@bad.test', 'Bad input');
  await verifyLatestMail(t, owner);
  const ops = await t.request('POST', '/v1/operator-users', {
    key: t.demo.operator.apiKey,
    body: { email: 'ops@bad.test', role: 'admin' },
  });
  operator = await signIn(t, {
    email: 'ops@bad.test',
    password: ops.body.password as string,
    kind: 'operator',
  });
});
afterAll(async () => {
  await t.close();
});

describe('every portal form’s endpoint rejects empty, too-long and wrong-type values naming the field', () => {
  it('answers 400 problem+json with the field, and writes nothing', async () => {
    const long = 'x'.repeat(300);
    const cases: Array<{ method: string; path: string; body: unknown; field: string; who: Session }> = [
      {
        method: 'POST',
        path: '/v1/users',
        body: { email: '', role: 'developer' },
        field: '/email',
        who: owner,
      },
      {
        method: 'POST',
        path: '/v1/users',
        body: { email: `${long}@x.test`, role: 'developer' },
        field: '/email',
        who: owner,
      },
      {
        method: 'POST',
        path: '/v1/users',
        body: { email: 'a@b.test', role: 'admin' },
        field: '/role',
        who: owner,
      },
      { method: 'POST', path: '/v1/users', body: { email: 42, role: 'viewer' }, field: '/email', who: owner },
      {
        method: 'POST',
        path: '/v1/users',
        body: { email: 'a@b.test', role: 'viewer', extra: 1 },
        field: '/extra',
        who: owner,
      },
      { method: 'POST', path: '/v1/auth/totp/confirm', body: { code: '' }, field: '/code', who: owner },
      { method: 'POST', path: '/v1/auth/totp/confirm', body: { code: 123456 }, field: '/code', who: owner },
      { method: 'POST', path: '/v1/auth/totp/confirm', body: { code: long }, field: '/code', who: owner },
      {
        method: 'POST',
        path: '/v1/access-requests',
        body: { product: 'carrier-billing', name: '' },
        field: '/name',
        who: owner,
      },
      {
        method: 'POST',
        path: '/v1/access-requests',
        body: { product: 'carrier-billing', name: long },
        field: '/name',
        who: owner,
      },
      {
        method: 'POST',
        path: '/v1/access-requests',
        body: { product: 'nope', name: 'x' },
        field: '/product',
        who: owner,
      },
      {
        method: 'POST',
        path: '/v1/operator-users',
        body: { email: 'x@y.test', role: 'owner' },
        field: '/role',
        who: operator,
      },
      {
        method: 'POST',
        path: '/v1/operator-users',
        body: { email: '', role: 'admin' },
        field: '/email',
        who: operator,
      },
      {
        method: 'POST',
        path: '/v1/operator-users',
        body: { email: 'x@y.test', role: 'admin', totp: 'yes' },
        field: '/totp',
        who: operator,
      },
    ];
    for (const c of cases) {
      const res = await t.request(c.method, c.path, { headers: asUser(c.who), body: c.body });
      expect({
        path: c.path,
        body: c.body,
        status: res.status,
        field: res.body?.param ?? res.body?.errors?.[0]?.field,
      }).toEqual({
        path: c.path,
        body: c.body,
        status: 400,
        field: c.field,
      });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const users = await t.request('GET', '/v1/users', { headers: { cookie: owner.cookie } });
    expect(users.body.data).toHaveLength(1);
  });

  it('rejects public account forms’ bad input the same way', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['/v1/auth/signin', { email: 'a@b.test' }, '/password'],
      ['/v1/auth/signin', { email: 'a@b.test', password: 'x', kind: 'robot' }, '/kind'],
      ['/v1/auth/signin', { email: 'a@b.test', password: 'x'.repeat(201) }, '/password'],
      ['/v1/auth/verify-email', { token: '' }, '/token'],
      ['/v1/auth/verify-email', { token: 5 }, '/token'],
      ['/v1/auth/password-reset', { email: 7 }, '/email'],
      ['/v1/auth/password-reset/confirm', { token: 'x', password: 'short' }, '/password'],
      ['/v1/auth/password-reset/confirm', { token: 'nope', password: 'a long enough passphrase' }, '/token'],
    ];
    for (const [path, body, field] of cases) {
      const res = await t.request('POST', path, { body });
      expect({
        path,
        body,
        status: res.status,
        field: res.body?.param ?? res.body?.errors?.[0]?.field,
      }).toEqual({
        path,
        body,
        status: 400,
        field,
      });
    }
    const badQuery = await t.request('GET', '/v1/stats?from=yesterday', {
      headers: { cookie: owner.cookie },
    });
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.param).toBe('querystring:/from');
    const badEnv = await t.request('GET', '/v1/stats', {
      headers: { cookie: owner.cookie, 'x-payloom-environment': 'staging' },
    });
    expect(badEnv.status).toBe(400);
  });
});
