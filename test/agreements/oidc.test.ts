import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { MobilePayClient, type AgrDemo } from './helpers.js';

let t: TestApp;
let demo: AgrDemo;

beforeAll(async () => {
  t = await startTestApp();
  demo = t.demo.agreements as AgrDemo;
});
afterAll(async () => t.close());

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
});

describe('agreements: OpenID Connect (authorization code + PKCE, refresh tokens)', () => {
  it('discovery names the endpoints; the demo credentials carry the documented keys', async () => {
    expect(Object.keys(demo).sort()).toEqual(
      [
        'apiEndpoint',
        'applicationClientId',
        'applicationClientSecret',
        'clientId',
        'clientSecret',
        'discoveryEndpoint',
        'providerId',
        'refreshToken',
      ].sort(),
    );
    const doc = await t.request('GET', new URL(demo.discoveryEndpoint).pathname);
    expect(doc.body.token_endpoint).toBe(`${t.config.baseUrl}/subscriptions/oidc/connect/token`);
    expect(doc.body.grant_types_supported).toEqual(['authorization_code', 'refresh_token']);
  });

  it('a merchant consents; the integrator redeems the code once with its PKCE verifier and calls the API', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = {
      client_id: demo.clientId,
      redirect_uri: 'https://example.com/callback',
      response_type: 'code',
      scope: 'openid offline_access subscriptions',
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const page = await t.request(
      'GET',
      `/subscriptions/oidc/connect/authorize?${new URLSearchParams(params)}`,
    );
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toContain('Authorize Demo integrator');
    expect(page.text).not.toContain('<script');

    const wrongKey = await t.request(
      'POST',
      '/subscriptions/oidc/connect/authorize',
      form({ ...params, api_key: 'nope', decision: 'allow' }),
    );
    expect(wrongKey.status).toBe(401);
    const denied = await t.request(
      'POST',
      '/subscriptions/oidc/connect/authorize',
      form({ ...params, api_key: t.demo.native.apiKey, decision: 'deny' }),
    );
    expect(new URL(denied.headers.location as string).searchParams.get('error')).toBe('access_denied');

    const consent = async () => {
      const allowed = await t.request(
        'POST',
        '/subscriptions/oidc/connect/authorize',
        form({ ...params, api_key: t.demo.native.apiKey, decision: 'allow' }),
      );
      expect(allowed.status).toBe(303);
      const redirect = new URL(allowed.headers.location as string);
      expect(redirect.searchParams.get('state')).toBe('st-1');
      return redirect.searchParams.get('code') ?? '';
    };
    const token = (code: string, extra: Record<string, string>) =>
      t.request(
        'POST',
        '/subscriptions/oidc/connect/token',
        form({
          grant_type: 'authorization_code',
          code,
          redirect_uri: params.redirect_uri,
          client_id: demo.clientId,
          client_secret: demo.clientSecret,
          ...extra,
        }),
      );
    // A wrong verifier is refused (and burns that code).
    expect(
      (await token(await consent(), { code_verifier: randomBytes(32).toString('base64url') })).status,
    ).toBe(400);
    const code = await consent();
    const ok = await token(code, { code_verifier: verifier });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(typeof ok.body.refresh_token).toBe('string');
    // Single use.
    expect((await token(code, { code_verifier: verifier })).body.error).toBe('invalid_grant');

    // The id token verifies against the published JWKS and carries the nonce.
    const jwks = (await t.request('GET', '/subscriptions/oidc/.well-known/jwks')).body;
    const { payload } = await jwtVerify(
      ok.body.id_token as string,
      async () => {
        const { importJWK } = await import('jose');
        return importJWK(jwks.keys[0], 'EdDSA');
      },
      { issuer: `${t.config.baseUrl}/subscriptions/oidc`, audience: demo.clientId },
    );
    expect(payload).toMatchObject({ sub: t.demo.merchantId, nonce: 'n-1' });
    void createRemoteJWKSet;

    // The new refresh token works like the demo one.
    const client = new MobilePayClient(t, { ...demo, refreshToken: ok.body.refresh_token as string });
    await client.login();
    expect((await client.call('GET', '/merchants/me')).status).toBe(200);
  });

  it('rejects bad client secrets, unknown grants and unknown refresh tokens', async () => {
    const bad = await t.request(
      'POST',
      '/subscriptions/oidc/connect/token',
      form({
        grant_type: 'refresh_token',
        refresh_token: demo.refreshToken,
        client_id: demo.clientId,
        client_secret: 'x',
      }),
    );
    expect(bad.status).toBe(401);
    const basic = await t.request('POST', '/subscriptions/oidc/connect/token', {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`,
      },
      payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown' }).toString(),
    });
    expect(basic.body.error).toBe('invalid_grant');
    const grant = await t.request(
      'POST',
      '/subscriptions/oidc/connect/token',
      form({ grant_type: 'password', client_id: demo.clientId, client_secret: demo.clientSecret }),
    );
    expect(grant.body.error).toBe('unsupported_grant_type');
  });
});
