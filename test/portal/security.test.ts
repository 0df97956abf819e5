import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { asUser, signIn, signUp, verifyLatestMail, type Session } from './helpers.js';

let t: TestApp;
let owner: Session & { merchantId: string };
let other: Session & { merchantId: string };
let viewer: Session;
let developer: Session;
let sandboxSub: string;
let productionSub: string;
let credentialId: string;

async function invite(email: string, role: string): Promise<Session> {
  const res = await t.request('POST', '/v1/users', { headers: asUser(owner), body: { email, role } });
  expect(res.status).toBe(201);
  const mail = await t.request('GET', `/v1/sandbox/mail?to=${encodeURIComponent(email)}`, {
    headers: asUser(owner),
  });
  const token = /token=([A-Za-z0-9_-]+)/.exec(mail.body.data[0].text)?.[1];
  const set = await t.request('POST', '/v1/auth/password-reset/confirm', {
    body: { token, password: 'teammate passphrase' },
  });
  expect(set.status).toBe(200);
  return signIn(t, { email, password: 'teammate passphrase' });
}

beforeAll(async () => {
  t = await startTestApp();
  owner = await signUp(t, 'owner@one.test', 'One');
  await verifyLatestMail(t, owner);
  other = await signUp(t, 'owner@two.test', 'Two');
  await verifyLatestMail(t, other);
  viewer = await invite('viewer@one.test', 'viewer');
  developer = await invite('dev@one.test', 'developer');
  const sub = await t.request('POST', '/v1/access-requests', {
    headers: asUser(owner),
    body: { product: 'carrier-billing', name: 'Sandbox sub' },
  });
  expect(sub.body.status).toBe('approved');
  sandboxSub = sub.body.id as string;
  const prod = await t.request('POST', '/v1/access-requests', {
    headers: asUser(owner, 'production'),
    body: { product: 'carrier-billing', name: 'Prod sub' },
  });
  expect(prod.body.status).toBe('pending');
  productionSub = prod.body.id as string;
  const cred = await t.request('POST', `/v1/subscriptions/${sandboxSub}/credentials`, {
    headers: asUser(owner),
  });
  expect(cred.status).toBe(201);
  credentialId = cred.body.credential.id as string;
});
afterAll(async () => {
  await t.close();
});

describe('session cookies on the native API', () => {
  it('refuses a cookie-authenticated write without the CSRF token, or with another session’s token', async () => {
    const none = await t.request('POST', '/v1/access-requests', {
      headers: asUser(owner, 'sandbox', false),
      body: { product: 'agreements', name: 'x' },
    });
    expect(none.status).toBe(403);
    expect(none.body.code).toBe('csrf_failed');
    const foreign = await t.request('POST', '/v1/access-requests', {
      headers: { ...asUser(owner, 'sandbox', false), 'x-csrf-token': other.csrf },
      body: { product: 'agreements', name: 'x' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('csrf_failed');
    // Reads need no token.
    expect(
      (await t.request('GET', '/v1/access-requests', { headers: { cookie: owner.cookie } })).status,
    ).toBe(200);
  });

  it('lets a viewer read but change nothing (403 on every mutation of its own merchant)', async () => {
    const mutations: Array<[string, string, unknown, 'sandbox' | 'production']> = [
      ['POST', '/v1/access-requests', { product: 'agreements', name: 'x' }, 'sandbox'],
      ['PATCH', `/v1/access-requests/${sandboxSub}`, { name: 'renamed' }, 'sandbox'],
      ['POST', `/v1/subscriptions/${sandboxSub}/credentials`, {}, 'sandbox'],
      ['POST', `/v1/subscriptions/${sandboxSub}/cancel`, {}, 'sandbox'],
      ['POST', '/v1/credentials', { dialect: 'native' }, 'sandbox'],
      ['POST', `/v1/credentials/${credentialId}/rotate`, {}, 'sandbox'],
      ['POST', `/v1/credentials/${credentialId}/revoke`, {}, 'sandbox'],
      ['POST', '/v1/webhook-endpoints', { url: 'https://example.com/hook' }, 'sandbox'],
      ['POST', '/v1/users', { email: 'x@one.test', role: 'owner' }, 'sandbox'],
      ['POST', '/v1/sandbox/test-clocks', { frozen_time: '2026-01-01T00:00:00Z' }, 'sandbox'],
      ['POST', '/v1/access-requests', { product: 'agreements', name: 'x' }, 'production'],
    ];
    expect(
      (await t.request('GET', '/v1/access-requests', { headers: { cookie: viewer.cookie } })).status,
    ).toBe(200);
    for (const [method, path, body, env] of mutations) {
      const res = await t.request(method, path, { headers: asUser(viewer, env), body });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    const still = await t.request('GET', `/v1/access-requests/${sandboxSub}`, {
      headers: { cookie: owner.cookie },
    });
    expect(still.body).toMatchObject({ name: 'Sandbox sub', status: 'approved' });
  });

  it('lets a developer build in sandbox but not manage production access or the team', async () => {
    const rename = await t.request('PATCH', `/v1/access-requests/${sandboxSub}`, {
      headers: asUser(developer),
      body: { name: 'Renamed by dev' },
    });
    expect(rename.status).toBe(200);
    const prod = await t.request('POST', `/v1/subscriptions/${productionSub}/cancel`, {
      headers: asUser(developer, 'production'),
    });
    expect(prod.status).toBe(403);
    const team = await t.request('POST', '/v1/users', {
      headers: asUser(developer),
      body: { email: 'y@one.test', role: 'owner' },
    });
    expect(team.status).toBe(403);
  });

  it('answers 404 for another merchant’s objects, through the API and the pages', async () => {
    const attempts: Array<[string, string, unknown]> = [
      ['GET', `/v1/access-requests/${sandboxSub}`, undefined],
      ['PATCH', `/v1/access-requests/${sandboxSub}`, { name: 'stolen' }],
      ['POST', `/v1/subscriptions/${sandboxSub}/credentials`, {}],
      ['POST', `/v1/subscriptions/${sandboxSub}/cancel`, {}],
      ['GET', `/v1/credentials/${credentialId}`, undefined],
      ['POST', `/v1/credentials/${credentialId}/revoke`, {}],
      ['PATCH', `/v1/users/${viewer.userId}`, { role: 'owner' }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await t.request(method, path, { headers: asUser(other), body });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const page = await t.request('GET', `/portal/fragments/subscriptions/${sandboxSub}`, {
      headers: { cookie: other.cookie },
    });
    expect(page.status).toBe(404);
  });

  it('never issues production credentials before approval, and Try It stays disabled without a key', async () => {
    const early = await t.request('POST', `/v1/subscriptions/${productionSub}/credentials`, {
      headers: asUser(owner, 'production'),
    });
    expect(early.status).toBe(403);
    expect(early.body.code).toBe('access_not_approved');
    const page = await t.request('GET', '/portal/products/carrier-billing/try-it?env=production', {
      headers: { cookie: owner.cookie },
    });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Disabled until the operator approves');
    expect(page.text).toMatch(/<button type="button" id="tryit-send" class="go" disabled=""/);
    expect(page.text).toContain('&quot;enabled&quot;:false');
    expect(page.text).not.toMatch(/pl_live_|&quot;secret&quot;/);
  });

  it('escapes HTML and script from every shown text field and sends a CSP without unsafe-inline', async () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const merchant = await signUp(t, 'evil@three.test', evil);
    await verifyLatestMail(t, merchant);
    const sub = await t.request('POST', '/v1/access-requests', {
      headers: asUser(merchant, 'production'),
      body: { product: 'carrier-billing', name: evil },
    });
    expect(sub.status).toBe(201);
    await t.request('POST', '/v1/sandbox/test-clocks', {
      headers: asUser(merchant),
      body: { frozen_time: '2026-01-01T00:00:00Z', name: evil },
    });
    await t.request('POST', '/v1/access-requests', {
      headers: asUser(merchant),
      body: { product: 'carrier-billing', name: evil },
    });
    const ops = await t.request('POST', '/v1/operator-users', {
      key: t.demo.operator.apiKey,
      body: { email: 'ops@sec.test', role: 'admin' },
    });
    const operator = await signIn(t, {
      email: 'ops@sec.test',
      password: ops.body.password as string,
      kind: 'operator',
    });
    const pages: Array<[string, string]> = [
      ['/portal/products/carrier-billing', merchant.cookie],
      ['/portal/products', merchant.cookie],
      ['/portal/sandbox/clocks', merchant.cookie],
      ['/console/access-requests', operator.cookie],
      ['/console/merchants', operator.cookie],
      [`/console/merchants/${merchant.merchantId}`, operator.cookie],
    ];
    for (const [path, cookie] of pages) {
      const res = await t.request('GET', path, { headers: { cookie } });
      expect(res.status, path).toBe(200);
      expect(res.text, path).not.toContain('<script>alert');
      expect(res.text, path).not.toContain('<img src=x');
      expect(res.text, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('picks the session a write’s CSRF token belongs to when a browser holds both portal and console cookies', async () => {
    const ops = await t.request('POST', '/v1/operator-users', {
      key: t.demo.operator.apiKey,
      body: { email: 'both@sec.test', role: 'admin' },
    });
    const operator = await signIn(t, {
      email: 'both@sec.test',
      password: ops.body.password as string,
      kind: 'operator',
    });
    const merchant = await signIn(t, { email: 'owner@two.test', password: 'correct horse battery' });
    const both = `${merchant.cookie}; ${operator.cookie}`;
    const out = await t.request('POST', '/v1/auth/signout', {
      headers: { cookie: both, 'x-csrf-token': operator.csrf },
    });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^payloom_console=;/);
    expect(
      (await t.request('GET', '/v1/auth/session', { headers: { cookie: merchant.cookie } })).status,
    ).toBe(200);
    expect(
      (await t.request('GET', '/v1/operator-users', { headers: { cookie: operator.cookie } })).status,
    ).toBe(401);
  });

  it('audits every cookie-authenticated action with the user as actor', async () => {
    const log = await t.request('GET', `/v1/audit-log?merchant_id=${owner.merchantId}&limit=100`, {
      key: t.demo.operator.apiKey,
    });
    const actors = new Set(
      (log.body.data as Array<{ actor_id: string; action: string }>).map((e) => e.actor_id),
    );
    expect(actors.has(owner.userId)).toBe(true);
    const signup = (log.body.data as Array<{ actor_id: string; action: string }>).find(
      (e) => e.action === 'POST /v1/auth/signup',
    );
    expect(signup?.actor_id).toBe(owner.userId);
    const viewerActions = (log.body.data as Array<{ actor_id: string; action: string }>)
      .filter((e) => e.actor_id === viewer.userId)
      .map((e) => e.action);
    // The viewer set a password and signed in; its refused writes changed nothing and wrote no success.
    expect(viewerActions.sort()).toEqual(['POST /v1/auth/password-reset/confirm', 'POST /v1/auth/signin']);
  });
});
