import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness.js';
import { createOauthClient } from '../../src/products/agreements/tokens.js';
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

/** A browser: follows nothing by itself, keeps the cookies oidc-provider sets. */
const browser = () => {
  const jar = new Map<string, string>();
  const go = async (method: string, url: string, fields?: Record<string, string>) => {
    const path = url.startsWith('http') ? url.slice(t.config.baseUrl.length) : url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await t.request(method, path, {
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(fields ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(fields ? { payload: new URLSearchParams(fields).toString() } : {}),
    });
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = line.split(';');
      const at = (pair ?? '').indexOf('=');
      jar.set((pair ?? '').slice(0, at), (pair ?? '').slice(at + 1));
    }
    return res;
  };
  return go;
};

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
    expect(doc.status).toBe(200);
    expect(doc.headers['x-request-id']).toMatch(/^req_/);
    expect(doc.body.token_endpoint).toBe(`${t.config.baseUrl}/subscriptions/oidc/connect/token`);
    expect(doc.body.issuer).toBe(`${t.config.baseUrl}/subscriptions/oidc`);
    expect(doc.body.authorization_endpoint).toBe(`${t.config.baseUrl}/subscriptions/oidc/connect/authorize`);
    expect(doc.body.jwks_uri).toBe(`${t.config.baseUrl}/subscriptions/oidc/.well-known/jwks`);
    // The vendor's hybrid `code id_token` is listed by oidc-provider as the implicit grant type.
    expect(doc.body.grant_types_supported).toEqual(['authorization_code', 'implicit', 'refresh_token']);
    expect(doc.body.response_types_supported).toEqual(['code', 'code id_token']);
    expect(doc.body.code_challenge_methods_supported).toEqual(['S256']);
    expect(doc.body.id_token_signing_alg_values_supported).toEqual(['EdDSA']);
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
    // oidc-provider's flow: authorize -> 303 to Payloom's consent page (the interaction, bound to the
    // browser by cookies) -> the merchant's decision -> 303 back to authorize -> 303 to the integrator.
    const startConsent = async () => {
      const go = browser();
      const started = await go('GET', `/subscriptions/oidc/connect/authorize?${new URLSearchParams(params)}`);
      expect(started.status, started.text).toBe(303);
      const consentUrl = started.headers.location as string;
      expect(consentUrl).toMatch(/^\/subscriptions\/oidc\/interaction\//);
      return { go, consentUrl };
    };
    const decide = async (
      go: ReturnType<typeof browser>,
      consentUrl: string,
      fields: Record<string, string>,
    ) => {
      const decided = await go('POST', consentUrl, fields);
      if (decided.status !== 303) return decided;
      return go('GET', decided.headers.location as string);
    };

    const { go, consentUrl } = await startConsent();
    const page = await go('GET', consentUrl);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.text).toContain('Authorize Demo integrator');
    expect(page.text).not.toContain('<script');

    const wrongKey = await go('POST', consentUrl, { api_key: 'nope', decision: 'allow' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.text).toContain('That API key is not valid');
    const denied = await decide(go, consentUrl, { api_key: t.demo.native.apiKey, decision: 'deny' });
    expect(denied.status).toBe(303);
    const deniedAt = new URL(denied.headers.location as string);
    expect(deniedAt.origin + deniedAt.pathname).toBe('https://example.com/callback');
    expect(deniedAt.searchParams.get('error')).toBe('access_denied');
    expect(deniedAt.searchParams.get('state')).toBe('st-1');

    const consent = async () => {
      const started = await startConsent();
      const allowed = await decide(started.go, started.consentUrl, {
        api_key: t.demo.native.apiKey,
        decision: 'allow',
      });
      expect(allowed.status).toBe(303);
      const redirect = new URL(allowed.headers.location as string);
      expect(redirect.origin + redirect.pathname).toBe('https://example.com/callback');
      expect(redirect.searchParams.get('state')).toBe('st-1');
      // RFC 9207: the authorization response names its issuer.
      expect(redirect.searchParams.get('iss')).toBe(`${t.config.baseUrl}/subscriptions/oidc`);
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
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    // The access token is a JWT for the API (audience `subscriptions`) naming the merchant's environment.
    const [header, claims] = (ok.body.access_token as string)
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(claims).toMatchObject({
      iss: `${t.config.baseUrl}/subscriptions/oidc`,
      aud: 'subscriptions',
      sub: t.demo.merchantId,
      client_id: demo.clientId,
      scope: 'subscriptions',
      env: 'sandbox',
    });
    expect(typeof ok.body.refresh_token).toBe('string');
    // The new refresh token works like the demo one.
    const client = new MobilePayClient(t, { ...demo, refreshToken: ok.body.refresh_token as string });
    await client.login();
    expect((await client.call('GET', '/merchants/me')).status).toBe(200);

    // Single use: a replayed code is refused, and (RFC 6749 §4.1.2, oidc-provider's standard behaviour)
    // the tokens issued from it are revoked.
    expect((await token(code, { code_verifier: verifier })).body.error).toBe('invalid_grant');
    await expect(client.login()).rejects.toThrow(/invalid_grant/);

    // Two concurrent redemptions of one code: exactly one gets tokens (the adapter's consume is a
    // guarded UPDATE).
    const raced = await consent();
    const answers = await Promise.all([
      token(raced, { code_verifier: verifier }),
      token(raced, { code_verifier: verifier }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    expect(answers.find((a) => a.status === 400)?.body.error).toBe('invalid_grant');

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
  });

  it("the vendor's hybrid flow: code id_token in the fragment for a client with https redirect URIs", async () => {
    const client = await createOauthClient(t.database.handle.db, {
      merchantId: t.demo.merchantId,
      environment: 'sandbox',
      name: 'Hybrid integrator',
      redirectUris: ['https://integrator.example/cb'],
    });
    const verifier = randomBytes(32).toString('base64url');
    const go = browser();
    const started = await go(
      'GET',
      `/subscriptions/oidc/connect/authorize?${new URLSearchParams({
        client_id: client.clientId,
        redirect_uri: 'https://integrator.example/cb',
        response_type: 'code id_token',
        response_mode: 'fragment',
        scope: 'openid offline_access subscriptions',
        state: 'st-h',
        nonce: 'n-h',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })}`,
    );
    expect(started.status, started.text).toBe(303);
    const decided = await go('POST', started.headers.location as string, {
      api_key: t.demo.native.apiKey,
      decision: 'allow',
    });
    expect(decided.status).toBe(303);
    const done = await go('GET', decided.headers.location as string);
    expect(done.status).toBe(303);
    const fragment = new URLSearchParams(new URL(done.headers.location as string).hash.slice(1));
    expect(fragment.get('state')).toBe('st-h');
    const jwks = (await t.request('GET', '/subscriptions/oidc/.well-known/jwks')).body;
    const { importJWK } = await import('jose');
    const { payload } = await jwtVerify(
      fragment.get('id_token') ?? '',
      await importJWK(jwks.keys[0], 'EdDSA'),
      {
        issuer: `${t.config.baseUrl}/subscriptions/oidc`,
        audience: client.clientId,
      },
    );
    expect(payload).toMatchObject({ sub: t.demo.merchantId, nonce: 'n-h' });
    const redeemed = await t.request('POST', '/subscriptions/oidc/connect/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'authorization_code',
        code: fragment.get('code') ?? '',
        redirect_uri: 'https://integrator.example/cb',
        code_verifier: verifier,
        client_id: client.clientId,
        client_secret: client.clientSecret,
      }).toString(),
    });
    expect(redeemed.status, redeemed.text).toBe(200);
    expect(typeof redeemed.body.refresh_token).toBe('string');
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
    expect(bad.body.error, bad.text).toBe('invalid_client');
    expect(bad.status).toBe(401);
    const basic = await t.request('POST', '/subscriptions/oidc/connect/token', {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`,
      },
      payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown' }).toString(),
    });
    expect(basic.body.error, basic.text).toBe('invalid_grant');
    // The demo refresh token, with the client authenticated by HTTP Basic, gets an access token.
    const demoRefresh = await t.request('POST', '/subscriptions/oidc/connect/token', {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`,
      },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: demo.refreshToken,
      }).toString(),
    });
    expect(demoRefresh.status, demoRefresh.text).toBe(200);
    expect(demoRefresh.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'subscriptions' });
    // Not rotated: the demo refresh token stays usable.
    expect(demoRefresh.body.refresh_token).toBe(demo.refreshToken);
    const grant = await t.request(
      'POST',
      '/subscriptions/oidc/connect/token',
      form({ grant_type: 'password', client_id: demo.clientId, client_secret: demo.clientSecret }),
    );
    expect(grant.body.error).toBe('unsupported_grant_type');
  });

  it('a browser may call the token endpoint only from Payloom itself (the portal), never cross-origin', async () => {
    const basicAuth = `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`;
    const refresh = (origin: string) =>
      t.request('POST', '/subscriptions/oidc/connect/token', {
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth,
          origin,
        },
        payload: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: demo.refreshToken,
        }).toString(),
      });
    const foreign = await refresh('https://integrator.example');
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('invalid_request');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const own = await refresh(new URL(t.config.baseUrl).origin);
    expect(own.status, own.text).toBe(200);
  });
});
